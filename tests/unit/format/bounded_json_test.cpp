// Bounded JSON: the same documents as nlohmann's parser, in linear time, stopping at its
// value and depth bounds with the reason.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "format/bounded_json.hpp"

using namespace p2p;

namespace {
std::string objects_in_a_list(int n) {
  std::string text = "{\"files\":[";
  for (int i = 0; i < n; ++i) text += (i ? "," : "") + std::string("{\"path\":\"f") + std::to_string(i) + "\",\"size\":1}";
  return text + "]}";
}
}  // namespace

TEST_CASE("bounded JSON builds the same document as nlohmann's parser, lists of objects included") {
  std::string text = objects_in_a_list(200'000);  // quadratic under the callback parser: minutes
  nlohmann::json j;
  BoundedJsonProblem problem{};
  REQUIRE(parse_bounded_json(text, {1'000'000, 3}, j, problem));
  CHECK(problem == BoundedJsonProblem::none);
  CHECK(j == nlohmann::json::parse(text));
  CHECK(j["files"].size() == 200'000);
  CHECK(j["files"][199'999]["path"] == "f199999");
}

TEST_CASE("bounded JSON stops at the first value past its bound") {
  nlohmann::json j;
  BoundedJsonProblem problem{};
  // 1 object + 1 list + 3 x (object + 2 scalars) = 11 values.
  std::string text = objects_in_a_list(3);
  CHECK(parse_bounded_json(text, {11, 3}, j, problem));
  CHECK_FALSE(parse_bounded_json(text, {10, 3}, j, problem));
  CHECK(problem == BoundedJsonProblem::too_many_values);
  CHECK(j.is_null());
}

TEST_CASE("bounded JSON refuses nesting past its depth") {
  nlohmann::json j;
  BoundedJsonProblem problem{};
  CHECK(parse_bounded_json(R"({"a":[{"b":1}]})", {100, 3}, j, problem));
  CHECK_FALSE(parse_bounded_json(R"({"a":[{"b":[1]}]})", {100, 3}, j, problem));
  CHECK(problem == BoundedJsonProblem::too_deep);
  CHECK_FALSE(parse_bounded_json(std::string(100'000, '['), {1'000'000, 3}, j, problem));
  CHECK(problem == BoundedJsonProblem::too_deep);
}

TEST_CASE("bounded JSON says malformed for what is not JSON") {
  nlohmann::json j;
  BoundedJsonProblem problem{};
  for (const char* text : {"", "{", "{\"a\":1,}", "[1 2]", "{\"a\":1} x", "\"\xff\""}) {
    CHECK_FALSE(parse_bounded_json(text, {100, 3}, j, problem));
    CHECK(problem == BoundedJsonProblem::malformed);
  }
}
