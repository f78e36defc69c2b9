// The meta as JSON text, written straight from the Meta (no JSON tree): the canonical
// info (its SHA-256 is the info hash, so these bytes may never change) and the pretty
// meta file. Byte-identical to what nlohmann::json's dump() printed for the same values
// (sorted keys; compact, or indent 1; only '"', '\\' and control characters escaped, as
// \b \t \n \f \r or lower-case \u00xx): tests/unit/format/meta_json_writer_test.cpp
// keeps that implementation and compares.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/hex.hpp"
#include "format/meta.hpp"

namespace p2p {

namespace {

struct StringSink {
  std::string out;
  void put(std::string_view s) { out.append(s); }
  void put(char c) { out.push_back(c); }
};

// Hashes in 64 KiB slices: the canonical info of a million-entry tree is ~100 MB,
// never held whole.
struct HashSink {
  Sha256 sha;
  char buf[64 * 1024];
  std::size_t used = 0;
  void put(std::string_view s) {
    while (!s.empty()) {
      if (used == sizeof buf) flush();
      std::size_t n = std::min(s.size(), sizeof buf - used);
      std::memcpy(buf + used, s.data(), n);
      used += n;
      s.remove_prefix(n);
    }
  }
  void put(char c) {
    if (used == sizeof buf) flush();
    buf[used++] = c;
  }
  void flush() {
    sha.update(std::string_view(buf, used));
    used = 0;
  }
};

template <typename Sink>
class JsonOut {
 public:
  JsonOut(Sink& sink, bool pretty) : s_(sink), pretty_(pretty) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view k) {
    element();
    string_body(k);
    s_.put(pretty_ ? std::string_view(": ") : std::string_view(":"));
    after_key_ = true;
  }
  void string(std::string_view v) {
    element();
    string_body(v);
  }
  void number(std::uint64_t v) {
    element();
    char b[24];
    auto r = std::to_chars(b, b + sizeof b, v);
    s_.put(std::string_view(b, static_cast<std::size_t>(r.ptr - b)));
  }
  void number(std::int64_t v) {
    element();
    char b[24];
    auto r = std::to_chars(b, b + sizeof b, v);
    s_.put(std::string_view(b, static_cast<std::size_t>(r.ptr - b)));
  }
  void boolean(bool v) {
    element();
    s_.put(v ? std::string_view("true") : std::string_view("false"));
  }
  void digest(const Digest& d) {
    element();
    char b[66];
    b[0] = b[65] = '"';
    write_hex(d, b + 1);
    s_.put(std::string_view(b, sizeof b));
  }

 private:
  void open(char c) {
    element();
    s_.put(c);
    first_.push_back(true);
  }
  void close(char c) {
    bool empty = first_.back();
    first_.pop_back();
    if (!empty && pretty_) newline();
    s_.put(c);
  }
  // Before a value or a key: the separator and, when pretty, the line and indent.
  void element() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) s_.put(',');
    first_.back() = false;
    if (pretty_) newline();
  }
  void newline() {
    s_.put('\n');
    for (std::size_t i = 0; i < first_.size(); ++i) s_.put(' ');
  }
  void string_body(std::string_view v) {
    s_.put('"');
    std::size_t run = 0;  // bytes copied as they are, flushed in one put
    for (std::size_t i = 0; i < v.size(); ++i) {
      auto c = static_cast<unsigned char>(v[i]);
      if (c >= 0x20 && c != '"' && c != '\\') {
        ++run;
        continue;
      }
      s_.put(v.substr(i - run, run));
      run = 0;
      switch (c) {
        case '"': s_.put("\\\""); break;
        case '\\': s_.put("\\\\"); break;
        case '\b': s_.put("\\b"); break;
        case '\t': s_.put("\\t"); break;
        case '\n': s_.put("\\n"); break;
        case '\f': s_.put("\\f"); break;
        case '\r': s_.put("\\r"); break;
        default: {
          char b[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 15]};
          s_.put(std::string_view(b, sizeof b));
        }
      }
    }
    s_.put(v.substr(v.size() - run, run));
    s_.put('"');
  }

  Sink& s_;
  bool pretty_;
  bool after_key_ = false;
  std::vector<bool> first_;  // per open container: nothing written in it yet
};

// The info's fields and, for the meta file, the others, in sorted key order.
template <typename Sink>
void write_meta(JsonOut<Sink>& j, const Meta& m, bool whole_file) {
  j.begin_object();
  if (whole_file) {
    j.key("created");
    j.number(m.created);
  }
  if (m.is_tree() && !m.empty_dirs.empty()) {
    j.key("dirs");
    j.begin_array();
    for (const auto& d : m.empty_dirs) j.string(d);
    j.end_array();
  }
  if (m.has_file_hash) {
    j.key("file_sha256");
    j.digest(m.file_hash);
  }
  if (m.is_tree()) {
    j.key("files");
    j.begin_array();
    for (const auto& f : m.files) {
      j.begin_object();
      if (f.executable) {
        j.key("exec");
        j.boolean(true);
      }
      j.key("path");
      j.string(f.path);
      j.key("size");
      j.number(f.size);
      j.end_object();
    }
    j.end_array();
  }
  if (whole_file) {
    j.key("info_hash");
    j.digest(m.info_hash);
  }
  j.key("name");
  j.string(m.name);
  j.key("piece_size");
  j.number(m.piece_size);
  j.key("pieces");
  j.begin_array();
  for (const auto& d : m.pieces) j.digest(d);
  j.end_array();
  if (m.is_private) {  // committed to: a stripped copy is another swarm
    j.key("private");
    j.boolean(true);
  }
  if (m.version >= 2) {
    j.key("root");
    j.digest(m.root);
  }
  j.key("size");
  j.number(m.size);
  if (whole_file && m.is_private) {
    j.key("swarm_key");
    j.digest(m.swarm_key);
  }
  if (whole_file) {
    j.key("trackers");
    j.begin_array();
    for (const auto& t : m.trackers) j.string(t);
    j.end_array();
  }
  j.key("version");
  j.number(static_cast<std::int64_t>(m.version));
  j.end_object();
}

}  // namespace

std::string canonical_info(const Meta& meta) {
  StringSink sink;
  JsonOut<StringSink> j(sink, false);
  write_meta(j, meta, false);
  return std::move(sink.out);
}

Digest info_hash_of(const Meta& meta) {
  auto sink = std::make_unique<HashSink>();
  JsonOut<HashSink> j(*sink, false);
  write_meta(j, meta, false);
  sink->flush();
  return sink->sha.finish();
}

std::string meta_to_json(const Meta& meta) {
  StringSink sink;
  JsonOut<StringSink> j(sink, true);
  write_meta(j, meta, true);
  sink.out.push_back('\n');
  return std::move(sink.out);
}

std::string meta_to_compact_json(const Meta& meta) {
  StringSink sink;
  JsonOut<StringSink> j(sink, false);
  write_meta(j, meta, true);
  return std::move(sink.out);
}

}  // namespace p2p
