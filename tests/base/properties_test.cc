#include "base/properties.h"

#include <gtest/gtest.h>

#include "base/files.h"

namespace cex {
namespace {

TEST(PropertiesTest, ParsesKeysValuesAndComments) {
  Properties props;
  props.addText(
      "# a comment line\n"
      "  name = My Compiler  \n"
      "exe=/usr/bin/g++ # trailing comment\n"
      "\n"
      "   \t\n"
      "empty=\n"
      "url=http://example.com/a=b\n",
      "test.properties");
  EXPECT_EQ(props.getString("name", ""), "My Compiler");
  EXPECT_EQ(props.getString("exe", ""), "/usr/bin/g++");
  ASSERT_TRUE(props.has("empty"));
  EXPECT_EQ(props.getString("empty", "x"), "");
  // Only the first '=' separates key and value.
  EXPECT_EQ(props.getString("url", ""), "http://example.com/a=b");
  EXPECT_FALSE(props.has("missing"));
  EXPECT_EQ(props.getString("missing", "fallback"), "fallback");
  EXPECT_TRUE(props.warnings().empty());
}

TEST(PropertiesTest, AppendExtendsTheSameFileOnly) {
  Properties props;
  props.addText("options=-O1\noptions+= -g\noptions += -Wall\n", "a.properties");
  EXPECT_EQ(props.getString("options", ""), "-O1 -g -Wall");

  // A later file cannot append to an earlier file's value: it starts afresh, with a warning.
  props.addText("options+=-O3\n", "b.properties");
  EXPECT_EQ(props.getString("options", ""), "-O3");
  ASSERT_EQ(props.warnings().size(), 1u);
  EXPECT_EQ(props.warnings()[0].rfind("b.properties:1:", 0), 0u) << props.warnings()[0];
}

TEST(PropertiesTest, MalformedLinesAreSkippedWithFileAndLine) {
  Properties props;
  props.addText("good=1\nthis line has no equals sign\n=novalue\nalso=2\n", "conf/x.properties");
  EXPECT_EQ(props.getInt("good", 0), 1);
  EXPECT_EQ(props.getInt("also", 0), 2);
  ASSERT_EQ(props.warnings().size(), 2u);
  EXPECT_NE(props.warnings()[0].find("conf/x.properties:2:"), std::string::npos);
  EXPECT_NE(props.warnings()[1].find("conf/x.properties:3:"), std::string::npos);
  EXPECT_EQ(props.sourceOf("also"), "conf/x.properties:4");
}

TEST(PropertiesTest, TypesValuesTheWayCompilerExplorerDoes) {
  Properties props;
  props.addText(
      "t=true\ny=yes\nf=false\nn=no\n"
      "int=42\nneg=-7\nzero=0\nleadingzero=007\n"
      "dbl=1.5\nnegdbl=-.25\nnotnum=1.2.3\n"
      "compiler.x.semver=12.10\nlibs.a.versions.b.version=3\n"
      "huge=99999999999999999999\n",
      "t.properties");
  EXPECT_EQ(props.getBool("t"), true);
  EXPECT_EQ(props.getBool("y"), true);
  EXPECT_EQ(props.getBool("f"), false);
  EXPECT_EQ(props.getBool("n"), false);
  EXPECT_EQ(props.getBool("int"), std::nullopt);
  EXPECT_TRUE(props.getBool("missing", true));

  EXPECT_EQ(props.getInt("int"), 42);
  EXPECT_EQ(props.getInt("neg"), -7);
  EXPECT_EQ(props.getInt("zero"), 0);
  EXPECT_EQ(props.getInt("leadingzero"), std::nullopt);
  EXPECT_EQ(props.getInt("dbl"), std::nullopt);
  EXPECT_EQ(props.getInt("huge"), std::nullopt);

  EXPECT_EQ(props.getDouble("dbl"), 1.5);
  EXPECT_EQ(props.getDouble("negdbl"), -0.25);
  EXPECT_EQ(props.getDouble("int"), 42.0);
  EXPECT_EQ(props.getDouble("notnum"), std::nullopt);

  // Version numbers are text: 12.10 is not 12.1.
  EXPECT_TRUE(std::holds_alternative<std::string>(props.getTyped("compiler.x.semver")));
  EXPECT_EQ(props.getString("compiler.x.semver", ""), "12.10");
  EXPECT_EQ(props.getInt("libs.a.versions.b.version"), std::nullopt);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(props.getTyped("missing")));
  // String lookups always give the text as written.
  EXPECT_EQ(props.getString("t", ""), "true");
}

TEST(PropertiesTest, ListsAndPrefixes) {
  Properties props;
  props.addText("compilers=&gcc: g122 ::clang\ngroup.gcc.a=1\ngroup.gcc.b=2\ngroup.gccx=3\n",
                "l.properties");
  EXPECT_EQ(props.getList("compilers"), (std::vector<std::string>{"&gcc", "g122", "clang"}));
  EXPECT_TRUE(props.getList("missing").empty());
  EXPECT_EQ(props.getList("group.gcc.a", '|'), (std::vector<std::string>{"1"}));
  EXPECT_EQ(props.keysWithPrefix("group.gcc."),
            (std::vector<std::string>{"group.gcc.a", "group.gcc.b"}));
}

TEST(PropertiesTest, FallbackAnswersMissingKeys) {
  auto global = std::make_shared<Properties>();
  global->addText("textBanner=hello\nshared=global\n", "compiler-explorer.defaults.properties");
  Properties lang;
  lang.addText("shared=language\n", "c++.defaults.properties");
  lang.setFallback(global);

  EXPECT_EQ(lang.getString("shared", ""), "language");
  EXPECT_EQ(lang.getString("textBanner", ""), "hello");
  EXPECT_EQ(lang.findLocal("textBanner"), nullptr);
  EXPECT_EQ(lang.sourceOf("textBanner"), "compiler-explorer.defaults.properties:1");
  // keysWithPrefix lists this object's keys only.
  EXPECT_TRUE(lang.keysWithPrefix("textBanner").empty());
}

TEST(PropertiesTest, SetOverridesFiles) {
  Properties props;
  props.addText("compileTimeoutMs=7500\n", "a.properties");
  props.set("compileTimeoutMs", "100");
  EXPECT_EQ(props.getInt("compileTimeoutMs", 0), 100);
}

TEST(PropertiesTest, HierarchyNamesInOrder) {
  PropertiesHierarchyOptions options;
  options.hostname = "box";
  EXPECT_EQ(propertiesHierarchy("c++", "dev", options),
            (std::vector<std::string>{"c++.defaults.properties", "c++.dev.properties",
                                      "c++.dev.linux.properties", "c++.linux.properties",
                                      "c++.box.properties", "c++.local.properties"}));
  options.include_local = false;
  EXPECT_EQ(propertiesHierarchy("rust", "amazon", options).back(), "rust.box.properties");
}

TEST(PropertiesTest, LoadsHierarchyLaterFilesWin) {
  auto dir = TempDir::create("/tmp", "cex-props-test-");
  ASSERT_TRUE(dir.ok());
  const std::string& d = dir->path();
  ASSERT_TRUE(writeFile(d + "/c++.defaults.properties",
                        "a=defaults\nb=defaults\nc=defaults\n"
                        "d=defaults\ne=defaults\n")
                  .isOk());
  ASSERT_TRUE(writeFile(d + "/c++.dev.properties", "b=dev\nc=dev\nd=dev\ne=dev\n").isOk());
  ASSERT_TRUE(writeFile(d + "/c++.linux.properties", "c=linux\nd=linux\ne=linux\n").isOk());
  ASSERT_TRUE(writeFile(d + "/c++.box.properties", "d=box\ne=box\n").isOk());
  ASSERT_TRUE(writeFile(d + "/c++.local.properties", "e=local\n").isOk());
  // Another environment's file and another base's file are not read.
  ASSERT_TRUE(writeFile(d + "/c++.amazon.properties", "a=amazon\n").isOk());
  ASSERT_TRUE(writeFile(d + "/c.defaults.properties", "a=c\n").isOk());

  PropertiesHierarchyOptions options;
  options.hostname = "box";
  Result<Properties> props = loadPropertiesHierarchy(d, "c++", "dev", options);
  ASSERT_TRUE(props.ok()) << props.status().toString();
  EXPECT_EQ(props->getString("a", ""), "defaults");
  EXPECT_EQ(props->getString("b", ""), "dev");
  EXPECT_EQ(props->getString("c", ""), "linux");
  EXPECT_EQ(props->getString("d", ""), "box");
  EXPECT_EQ(props->getString("e", ""), "local");
  EXPECT_EQ(props->sources().size(), 5u);

  options.include_local = false;
  props = loadPropertiesHierarchy(d, "c++", "dev", options);
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(props->getString("e", ""), "box");
}

TEST(PropertiesTest, MissingConfigDirIsAnError) {
  Result<Properties> props = loadPropertiesHierarchy("/nonexistent/cex/config", "c++", "dev");
  ASSERT_FALSE(props.ok());
  EXPECT_EQ(props.status().code(), StatusCode::NotFound);
}

TEST(PropertiesTest, AddFileReportsMissingFile) {
  Properties props;
  Status s = props.addFile("/nonexistent/x.properties");
  EXPECT_EQ(s.code(), StatusCode::NotFound);
  EXPECT_TRUE(props.sources().empty());
}

}  // namespace
}  // namespace cex
