// msock/export.h: MSOCK_EXPORT, the mark on every class and function of the
// public API, so that a shared libmsock built with hidden visibility
// (-fvisibility=hidden -fvisibility-inlines-hidden) exports the public API
// and nothing else.
//
// Example (at namespace scope):
//   // How msock's public headers declare what a program may call:
//   class MSOCK_EXPORT ExampleThing {
//    public:
//     void Run();
//   };
//   MSOCK_EXPORT int ExampleCount();
//
// Static builds and compilers without visibility attributes get an empty
// macro. The mark changes nothing for code that only includes the headers.
#ifndef MSOCK_EXPORT_H_
#define MSOCK_EXPORT_H_

#if defined(__GNUC__) || defined(__clang__)
#define MSOCK_EXPORT __attribute__((visibility("default")))
#else
#define MSOCK_EXPORT
#endif

#endif  // MSOCK_EXPORT_H_
