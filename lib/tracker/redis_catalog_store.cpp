// Redis catalog store: script calls and plain reads, every field checked.
#include "tracker/redis_catalog_store.hpp"

#include <fmt/format.h>

#include <chrono>

#include "base/error.hpp"
#include "tracker/redis_layout.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

namespace layout = redis_layout;

namespace {

constexpr std::size_t kMaxNameBytes = 255;  // parse_meta refuses longer names
constexpr auto kMaxFiles = static_cast<std::int64_t>(limits::kMaxCatalogFiles);

// name, size, piece_size, published, completed (the order every script answers in).
FileRecord record_from(const Digest& info_hash, std::span<const RedisValue> f, std::string_view what) {
  if (f.size() != 5) unexpected_answer(what, fmt::format("{} record fields, expected 5", f.size()));
  FileRecord r;
  r.info_hash = info_hash;
  r.name = f[0].as_string(what, kMaxNameBytes);
  r.size = static_cast<std::uint64_t>(f[1].as_int(what, 0, INT64_MAX));
  r.piece_size = static_cast<std::uint64_t>(f[2].as_int(what, 1, INT64_MAX));
  r.published = f[3].as_int(what, 0, INT64_MAX);
  r.completed = static_cast<std::uint64_t>(f[4].as_int(what, 0, INT64_MAX));
  return r;
}

Digest hash_from(const RedisValue& v, std::string_view what) {
  Digest d{};
  if (!digest_from_hex(v.as_string(what, 64), d)) unexpected_answer(what, "an info hash that is not 64 hex digits");
  return d;
}

std::string unix_now() {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

Task<PublishOutcome> RedisCatalogStore::publish(const PublishedMeta& meta, const Digest& owner_token_hash) {
  const std::string ih = meta.info_hash_hex();
  RedisCommand cmd = redis_.script_call(
      layout::kPublish, {std::string(layout::kPrefix), ih, meta.name, std::to_string(meta.size),
                         std::to_string(meta.piece_size), unix_now(), meta.text, to_hex(owner_token_hash),
                         std::to_string(limits::kMaxCatalogFiles)});
  RedisValue v = co_await redis_.command(std::move(cmd));
  const auto& a = v.as_array("publish", 1, 6);
  auto status = a[0].as_int("publish status", 0, 2);
  if (status == 2) throw Error(ExitCode::tracker, fmt::format("catalog is full ({} files)", limits::kMaxCatalogFiles));
  if (a.size() != 6) unexpected_answer("publish", fmt::format("{} elements, expected 6", a.size()));
  if (status == 1) {
    RedisCommand rm{"SREM", layout::withdrawn_key(), meta.info_hash_hex()};  // published again
    co_await redis_.command(std::move(rm));
  }
  co_return PublishOutcome{status == 1, record_from(meta.info_hash, std::span(a).subspan(1), "publish")};
}

Task<std::optional<FileRecord>> RedisCatalogStore::find(const Digest& info_hash) {
  RedisCommand cmd{"HMGET", layout::catalog_key(to_hex(info_hash)), "name", "size", "piece_size", "published", "completed"};
  RedisValue v = co_await redis_.command(std::move(cmd));
  const auto& a = v.as_array("a catalog record", 5, 5);
  if (a[0].is_nil()) co_return std::nullopt;
  co_return record_from(info_hash, a, "a catalog record");
}

Task<std::optional<FileRecord>> RedisCatalogStore::find_by_name(const std::string& name) {
  RedisCommand cmd = redis_.script_call(layout::kFindByName, {std::string(layout::kPrefix), name});
  RedisValue v = co_await redis_.command(std::move(cmd));
  const auto& a = v.as_array("a lookup by name", 0, 6);
  if (a.empty()) co_return std::nullopt;
  if (a.size() != 6) unexpected_answer("a lookup by name", fmt::format("{} elements, expected 6", a.size()));
  co_return record_from(hash_from(a[0], "a lookup by name"), std::span(a).subspan(1), "a lookup by name");
}

Task<std::vector<FileRecord>> RedisCatalogStore::list(const std::string& substring, std::size_t limit) {
  std::vector<FileRecord> out;
  std::string cursor = "-";
  // Each call scans a bounded slice of the name index and says where to go on.
  for (std::size_t calls = 0; out.size() < limit && calls <= limits::kMaxCatalogFiles / limits::kRedisListScanPerCall + 1;
       ++calls) {
    std::size_t want = limit - out.size();
    RedisCommand cmd = redis_.script_call(
        layout::kListFiles, {std::string(layout::kPrefix), substring, cursor, std::to_string(want),
                             std::to_string(limits::kRedisListScanPerCall)});
    RedisValue v = co_await redis_.command(std::move(cmd));
    const auto& a = v.as_array("a file listing", 1, 1 + 6 * want);
    if ((a.size() - 1) % 6 != 0) unexpected_answer("a file listing", "rows of the wrong width");
    for (std::size_t i = 1; i < a.size(); i += 6) {
      FileRecord r;
      r.info_hash = hash_from(a[i], "a file listing");
      r.name = a[i + 1].as_string("a file listing", kMaxNameBytes);
      r.size = static_cast<std::uint64_t>(a[i + 2].as_int("a file listing", 0, INT64_MAX));
      r.piece_size = static_cast<std::uint64_t>(a[i + 3].as_int("a file listing", 1, INT64_MAX));
      r.published = a[i + 4].as_int("a file listing", 0, INT64_MAX);
      r.completed = static_cast<std::uint64_t>(a[i + 5].as_int("a file listing", 0, INT64_MAX));
      out.push_back(std::move(r));
    }
    // The cursor is "(" + the last index entry looked at, "" when the index is done.
    cursor = a[0].as_string("a file listing cursor", kMaxNameBytes + 70);
    if (cursor.empty()) break;
  }
  co_return out;
}

Task<std::optional<std::string>> RedisCatalogStore::meta_json(const Digest& info_hash) {
  RedisCommand cmd{"HGET", layout::catalog_key(to_hex(info_hash)), "meta"};
  RedisValue v = co_await redis_.command(std::move(cmd));
  // Metas stored before they were kept as published were re-indented: up to ~1.2x.
  co_return v.as_optional_string("a stored meta", limits::kMaxPublishBytes * 2);
}

Task<WithdrawStatus> RedisCatalogStore::withdraw(const Digest& info_hash, const Digest& owner_token_hash) {
  RedisCommand cmd = redis_.script_call(
      layout::kWithdraw, {std::string(layout::kPrefix), to_hex(info_hash), to_hex(owner_token_hash)});
  RedisValue v = co_await redis_.command(std::move(cmd));
  switch (v.as_int("withdraw", 0, 3)) {
    case 0: co_return WithdrawStatus::not_found;
    case 1: {
      // The tombstone: seeders learn of the withdrawal from any tracker on this Redis.
      RedisCommand add{"SADD", layout::withdrawn_key(), to_hex(info_hash)};
      co_await redis_.command(std::move(add));
      co_return WithdrawStatus::withdrawn;
    }
    case 2: co_return WithdrawStatus::no_owner;
    default: co_return WithdrawStatus::wrong_token;
  }
}

Task<void> RedisCatalogStore::note_completed(const Digest& info_hash) {
  RedisCommand cmd = redis_.script_call(layout::kNoteCompleted, {std::string(layout::kPrefix), to_hex(info_hash)});
  RedisValue v = co_await redis_.command(std::move(cmd));
  v.as_int("a completed counter", -1, INT64_MAX);
}

Task<std::vector<std::optional<std::uint64_t>>> RedisCatalogStore::completed(std::span<const Digest> info_hashes) {
  std::vector<RedisCommand> cmds;
  for (const Digest& d : info_hashes) cmds.push_back({"HGET", layout::catalog_key(to_hex(d)), "completed"});
  std::vector<std::optional<std::uint64_t>> out;
  if (cmds.empty()) co_return out;
  std::vector<RedisValue> replies = co_await redis_.pipeline(std::move(cmds));
  for (const RedisValue& r : replies)
    out.push_back(r.is_nil() ? std::nullopt
                             : std::optional<std::uint64_t>(static_cast<std::uint64_t>(r.as_int("a completed counter", 0, INT64_MAX))));
  co_return out;
}

Task<std::size_t> RedisCatalogStore::size() {
  RedisCommand cmd{"ZCARD", layout::names_key()};
  RedisValue v = co_await redis_.command(std::move(cmd));
  co_return static_cast<std::size_t>(v.as_int("the file count", 0, kMaxFiles * 2));
}

Task<std::vector<Digest>> RedisCatalogStore::withdrawn() {
  RedisCommand cmd{"SRANDMEMBER", layout::withdrawn_key(), std::to_string(limits::kMaxWithdrawn)};
  RedisValue v = co_await redis_.command(std::move(cmd));
  std::vector<Digest> out;
  for (const RedisValue& e : v.as_array("the withdrawn set", 0, limits::kMaxWithdrawn)) out.push_back(hash_from(e, "the withdrawn set"));
  co_return out;
}

}  // namespace p2p::tracker
