// The ws transport's file server guard (transports/ws/static_files.h):
// DecodePath must turn a request path under a mount into a relative file path
// or refuse it, so that no request reaches outside the served directory; and
// ContentType's choices by extension.
#include "transports/ws/static_files.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace msock::internal {
namespace {

// The decoded path, or "<refused>".
std::string Decode(std::string_view in) {
  std::string out;
  return DecodePath(in, &out) ? out : "<refused>";
}

constexpr std::string_view kRefused = "<refused>";

TEST(DecodePathTest, PathsWithoutEscapesOrParentSegmentsPassUnchanged) {
  for (std::string_view in :
       {"", "/", "/index.html", "/a/b/c.js", "/a/", "/./a", "/a..b", "/..a/b",
        "/a/b..", "/.../x", "/.hidden"}) {
    EXPECT_EQ(Decode(in), in);
  }
}

TEST(DecodePathTest, PercentEscapesAreDecoded) {
  EXPECT_EQ(Decode("/a/b%20c"), "/a/b c");
  EXPECT_EQ(Decode("/%41%62"), "/Ab");
  EXPECT_EQ(Decode("/%c3%a9t%C3%A9"), "/\xc3\xa9t\xc3\xa9");  // both cases
  EXPECT_EQ(Decode("/100%25"), "/100%");  // an escaped '%' stays one
  EXPECT_EQ(Decode("/%2525"), "/%25");    // decoded once only
}

TEST(DecodePathTest, ParentSegmentIsRefused) {
  for (std::string_view in : {"..", "/..", "/../", "/../etc/passwd", "/a/../b",
                              "/a/..", "../x", "/a/b/../../.."}) {
    EXPECT_EQ(Decode(in), kRefused) << in;
  }
}

TEST(DecodePathTest, EncodedParentSegmentIsRefused) {
  for (std::string_view in : {"/%2e%2e/x", "/%2E%2E/x", "/.%2e/x", "/%2e./x",
                              "/a/%2e%2e", "%2e%2e", "/%2e%2e%2fetc"}) {
    EXPECT_EQ(Decode(in), kRefused) << in;
  }
}

TEST(DecodePathTest, EncodedSlashIsRefused) {
  EXPECT_EQ(Decode("/a%2fb"), kRefused);
  EXPECT_EQ(Decode("/a%2Fb"), kRefused);
  EXPECT_EQ(Decode("/..%2f..%2fetc"), kRefused);
}

TEST(DecodePathTest, BackslashIsRefusedRawOrEncoded) {
  EXPECT_EQ(Decode("/a\\b"), kRefused);
  EXPECT_EQ(Decode("/..\\x"), kRefused);
  EXPECT_EQ(Decode("/a%5cb"), kRefused);
  EXPECT_EQ(Decode("/%2e%2e%5cx"), kRefused);
}

TEST(DecodePathTest, NulIsRefusedRawOrEncoded) {
  EXPECT_EQ(Decode("/a%00.html"), kRefused);
  EXPECT_EQ(Decode(std::string_view("/a\0b", 4)), kRefused);
}

TEST(DecodePathTest, BadPercentEscapesAreRefused) {
  for (std::string_view in :
       {"/%", "/%4", "/a%", "/%zz", "/%g0", "/%0g", "/% 1", "/%-1", "/%+f",
        "/%%41", "/\xff%\xff\xff"}) {
    EXPECT_EQ(Decode(in), kRefused) << in;
  }
}

TEST(DecodePathTest, AppendsToWhatOutAlreadyHolds) {
  std::string out = "/srv";
  ASSERT_TRUE(DecodePath("/a%20b", &out));
  EXPECT_EQ(out, "/srv/a b");
  // The ".." check looks at the decoded part only.
  out = "/srv/..";
  EXPECT_TRUE(DecodePath("/x", &out));
}

TEST(ContentTypeTest, ByExtension) {
  EXPECT_EQ(ContentType("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentType("/app.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentType("/a.json"), "application/json");
  EXPECT_EQ(ContentType("/a.wasm"), "application/wasm");
  EXPECT_EQ(ContentType("/README"), "application/octet-stream");
  EXPECT_EQ(ContentType("/a.tar.gz"), "application/octet-stream");
}

}  // namespace
}  // namespace msock::internal
