// Query-string splitting and percent-decoding.
#include "tracker/query.hpp"

#include <fmt/format.h>

#include <charconv>

namespace p2p::tracker {

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

bool percent_decode(std::string_view in, std::string& out) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;  // needs two hex digits after '%'
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::string_view Query::decoded(std::string_view s) {
  if (s.find_first_of("%+") == std::string_view::npos) return s;
  std::string& out = storage_.emplace_back();
  if (!percent_decode(s, out)) {
    error_ = fmt::format("malformed percent-escape in query parameter {:?}", std::string(s.substr(0, 64)));
    return {};
  }
  return out;
}

bool Query::parse(std::string_view raw) {
  params_.clear();
  storage_.clear();
  error_.clear();
  while (!raw.empty()) {
    auto amp = raw.find('&');
    std::string_view part = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (part.empty()) continue;
    if (params_.size() >= kMaxParams) {
      error_ = fmt::format("more than {} query parameters", kMaxParams);
      return false;
    }
    auto eq = part.find('=');
    std::string_view key = decoded(part.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? std::string_view() : decoded(part.substr(eq + 1));
    if (!error_.empty()) return false;
    params_.emplace_back(key, value);
  }
  return true;
}

std::optional<std::string_view> Query::get(std::string_view key) const {
  for (const auto& [k, v] : params_)
    if (k == key) return v;
  return std::nullopt;
}

std::size_t Query::count(std::string_view key) const {
  std::size_t n = 0;
  for (const auto& [k, v] : params_) n += k == key;
  return n;
}

std::string_view required_param(const Query& q, std::string_view endpoint, std::string_view name) {
  auto v = q.get(name);
  if (!v) throw QueryRefusal{fmt::format("{}: missing parameter {}", endpoint, name)};
  return *v;
}

std::uint64_t uint_param(std::string_view endpoint, std::string_view name, std::string_view text, std::uint64_t max) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > max)
    throw QueryRefusal{fmt::format("{}: {} must be an integer in 0-{}, got {:?}", endpoint, name, max,
                                   std::string(text.substr(0, 32)))};
  return v;
}

}  // namespace p2p::tracker
