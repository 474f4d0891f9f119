# cmake/install.cmake: `cmake --install` rules for msock: the library, its public headers, a CMake
# package (find_package(msock) -> msock::msock) and a pkg-config file (msock.pc).
# Included at the end of the top-level CMakeLists.txt.
include(CMakePackageConfigHelpers)

set(MSOCK_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/msock"
    CACHE STRING "Where msockConfig.cmake is installed, relative to the prefix")

install(TARGETS msock
  EXPORT msockTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/msock
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

install(EXPORT msockTargets
  NAMESPACE msock::
  FILE msockTargets.cmake
  DESTINATION ${MSOCK_INSTALL_CMAKEDIR})

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/msockConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/msockConfig.cmake
  INSTALL_DESTINATION ${MSOCK_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/msockConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/msockConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/msockConfigVersion.cmake
  DESTINATION ${MSOCK_INSTALL_CMAKEDIR})

# pkg-config. A shared libmsock carries its private dependencies itself, so libuv and the Abseil
# parts used only inside go to Requires.private; a static one needs them all on the link line.
set(MSOCK_PC_PUBLIC_REQUIRES
    "absl_status absl_statusor absl_time absl_synchronization absl_inlined_vector absl_any_invocable")
set(MSOCK_PC_PRIVATE_REQUIRES
    "libuv libwebsockets libssl libcrypto protobuf sqlite3 absl_strings absl_str_format absl_flat_hash_map absl_flat_hash_set absl_random_random")
get_target_property(_msock_type msock TYPE)
if(_msock_type STREQUAL "SHARED_LIBRARY")
  set(MSOCK_PC_REQUIRES "${MSOCK_PC_PUBLIC_REQUIRES}")
  set(MSOCK_PC_REQUIRES_PRIVATE "${MSOCK_PC_PRIVATE_REQUIRES}")
  set(MSOCK_PC_LIBS_EXTRA "")
else()
  set(MSOCK_PC_REQUIRES "${MSOCK_PC_PUBLIC_REQUIRES} ${MSOCK_PC_PRIVATE_REQUIRES}")
  set(MSOCK_PC_REQUIRES_PRIVATE "")
  set(MSOCK_PC_LIBS_EXTRA "-pthread")
endif()
unset(_msock_type)
# The .pc file finds the prefix relative to itself, so `cmake --install --prefix DIR` relocates.
file(RELATIVE_PATH MSOCK_PC_PREFIX_FROM_PCDIR "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" MSOCK_PC_PREFIX_FROM_PCDIR "${MSOCK_PC_PREFIX_FROM_PCDIR}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(MSOCK_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(MSOCK_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(MSOCK_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(MSOCK_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/msock.pc.in ${CMAKE_CURRENT_BINARY_DIR}/msock.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/msock.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
