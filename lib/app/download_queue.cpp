// DownloadQueue: ordering and state rules, and the file's JSON (validated on reading).
#include "app/download_queue.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/address.hpp"
#include "base/error.hpp"
#include "base/hex.hpp"
#include "base/limits.hpp"
#include "format/bounded_json.hpp"
#include "format/json_text.hpp"
#include "format/meta.hpp"

namespace p2p {

using nlohmann::json;

namespace {
constexpr std::size_t kMaxPatterns = 64;
constexpr std::size_t kMaxPeers = 64;
constexpr int kFileVersion = 1;
}  // namespace

std::string_view download_state_name(DownloadState state) {
  switch (state) {
    case DownloadState::queued: return "queued";
    case DownloadState::checking: return "checking";
    case DownloadState::running: return "running";
    case DownloadState::paused: return "paused";
    case DownloadState::complete: return "complete";
    case DownloadState::failed: return "failed";
  }
  return "queued";
}

std::optional<DownloadState> parse_download_state(std::string_view name) {
  for (auto s : {DownloadState::queued, DownloadState::checking, DownloadState::running, DownloadState::paused,
                 DownloadState::complete, DownloadState::failed})
    if (download_state_name(s) == name) return s;
  return std::nullopt;
}

QueuedDownload* DownloadQueue::find(std::string_view id) {
  for (auto& e : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

const QueuedDownload* DownloadQueue::find(std::string_view id) const {
  return const_cast<DownloadQueue*>(this)->find(id);
}

std::size_t DownloadQueue::position(std::string_view id) const {
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].id == id) return i + 1;
  return 0;
}

std::size_t DownloadQueue::active() const {
  return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [](const QueuedDownload& e) {
    return e.state == DownloadState::checking || e.state == DownloadState::running;
  }));
}

bool DownloadQueue::add(QueuedDownload d) {
  if (find(d.id) || full()) return false;
  entries_.push_back(std::move(d));
  return true;
}

std::vector<std::string> DownloadQueue::start_next() {
  std::vector<std::string> out;
  std::size_t busy = active();
  for (auto& e : entries_) {
    if (busy >= max_active_) break;
    if (e.state != DownloadState::queued) continue;
    e.state = DownloadState::checking;
    e.error.clear();
    out.push_back(e.id);
    ++busy;
  }
  return out;
}

bool DownloadQueue::started(std::string_view id) {
  auto* e = find(id);
  if (!e || e->state != DownloadState::checking) return false;
  e->state = DownloadState::running;
  return true;
}

bool DownloadQueue::completed(std::string_view id) {
  auto* e = find(id);
  if (!e || (e->state != DownloadState::checking && e->state != DownloadState::running)) return false;
  e->state = DownloadState::complete;
  e->verified_bytes = e->only.empty() ? e->size : e->verified_bytes;
  e->error.clear();
  return true;
}

bool DownloadQueue::failed(std::string_view id, std::string why) {
  auto* e = find(id);
  if (!e || e->state == DownloadState::paused) return false;
  e->state = DownloadState::failed;
  e->error = std::move(why);
  return true;
}

void DownloadQueue::set_verified_bytes(std::string_view id, std::uint64_t n) {
  if (auto* e = find(id)) e->verified_bytes = n;
}

DownloadQueue::Change DownloadQueue::pause(std::string_view id) {
  auto* e = find(id);
  if (!e) return Change::unknown;
  switch (e->state) {
    case DownloadState::paused: return Change::unchanged;
    case DownloadState::complete:
    case DownloadState::failed: return Change::not_applicable;
    default: e->state = DownloadState::paused; return Change::done;
  }
}

DownloadQueue::Change DownloadQueue::resume(std::string_view id) {
  auto* e = find(id);
  if (!e) return Change::unknown;
  switch (e->state) {
    case DownloadState::paused:
    case DownloadState::failed:
      e->state = DownloadState::queued;
      e->error.clear();
      return Change::done;
    case DownloadState::complete: return Change::not_applicable;
    default: return Change::unchanged;
  }
}

bool DownloadQueue::remove(std::string_view id) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const QueuedDownload& e) { return e.id == id; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

DownloadQueue::Change DownloadQueue::move(std::string_view id, bool up) {
  std::size_t p = position(id);
  if (p == 0) return Change::unknown;
  std::size_t i = p - 1;
  if (entries_[i].state == DownloadState::complete) return Change::not_applicable;
  auto other = [&]() -> std::optional<std::size_t> {
    if (up) {
      for (std::size_t j = i; j-- > 0;)
        if (entries_[j].state != DownloadState::complete) return j;
    } else {
      for (std::size_t j = i + 1; j < entries_.size(); ++j)
        if (entries_[j].state != DownloadState::complete) return j;
    }
    return std::nullopt;
  }();
  if (!other) return Change::unchanged;
  std::swap(entries_[i], entries_[*other]);
  return Change::done;
}

std::string DownloadQueue::to_json() const {
  json list = json::array();
  for (const auto& e : entries_) {
    DownloadState s = e.state == DownloadState::checking || e.state == DownloadState::running ? DownloadState::queued : e.state;
    json j{{"info_hash", e.id},   {"name", e.name},         {"size", e.size},
           {"only", e.only},      {"trackers", e.trackers}, {"peers", e.peers},
           {"state", download_state_name(s)}, {"verified_bytes", e.verified_bytes}};
    if (!e.error.empty()) j["error"] = e.error;
    list.push_back(std::move(j));
  }
  return json_text(json{{"version", kFileVersion}, {"downloads", std::move(list)}}) + "\n";
}

namespace {

std::vector<std::string> string_list(const json& j, const char* key, std::size_t max_items, std::size_t max_bytes) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  const json& v = j.at(key);
  if (!v.is_array() || v.size() > max_items) throw std::runtime_error(fmt::format("{} is not a list of at most {}", key, max_items));
  for (const auto& s : v) {
    if (!s.is_string() || s.get_ref<const std::string&>().empty() || s.get_ref<const std::string&>().size() > max_bytes)
      throw std::runtime_error(fmt::format("{} holds something other than a string of 1-{} bytes", key, max_bytes));
    out.push_back(s.get<std::string>());
  }
  return out;
}

QueuedDownload entry_of(const json& j) {
  if (!j.is_object()) throw std::runtime_error("not an object");
  QueuedDownload d;
  const json& id = j.at("info_hash");
  if (!id.is_string() || !is_hex(id.get_ref<const std::string&>(), 64, true))
    throw std::runtime_error("info_hash is not 64 lowercase hex digits");
  d.id = id.get<std::string>();
  d.name = j.at("name").get<std::string>();
  validate_file_name(d.name);
  d.size = j.at("size").get<std::uint64_t>();
  auto state = parse_download_state(j.at("state").get<std::string>());
  if (!state) throw std::runtime_error("unknown state");
  d.state = *state == DownloadState::checking || *state == DownloadState::running ? DownloadState::queued : *state;
  d.only = string_list(j, "only", kMaxPatterns, limits::kMaxPathBytes);
  d.trackers = string_list(j, "trackers", limits::kMaxTrackers, 300);
  for (const auto& t : d.trackers) validate_tracker(t);
  d.peers = string_list(j, "peers", kMaxPeers, 300);
  for (const auto& p : d.peers) {
    std::string why;
    if (!parse_host_port(p, why)) throw std::runtime_error(fmt::format("peer {:?}: {}", p, why));
  }
  if (j.contains("verified_bytes")) d.verified_bytes = std::min(d.size, j.at("verified_bytes").get<std::uint64_t>());
  if (j.contains("error")) d.error = j.at("error").get<std::string>().substr(0, 4096);
  return d;
}

}  // namespace

DownloadQueue DownloadQueue::from_json(std::string_view text, std::size_t max_active, std::vector<std::string>& problems) {
  DownloadQueue q(max_active);
  json j;
  BoundedJsonProblem problem = BoundedJsonProblem::none;
  // An entry is an object of 9 keys with lists of up to 64 strings: bounded well within this.
  if (!parse_bounded_json(text, {kMaxDownloads * 256 + 16, 4}, j, problem)) {
    problems.push_back("not JSON, or too large or too deep");
    return q;
  }
  if (!j.is_object() || !j.contains("version") || j["version"] != kFileVersion || !j.contains("downloads") ||
      !j["downloads"].is_array()) {
    problems.push_back(fmt::format("not a version-{} downloads file", kFileVersion));
    return q;
  }
  std::size_t index = 0;
  for (const auto& item : j["downloads"]) {
    ++index;
    try {
      QueuedDownload d = entry_of(item);
      std::string id = d.id;
      if (!q.add(std::move(d))) problems.push_back(fmt::format("entry {}: {} is listed twice (or the list is full)", index, id));
    } catch (const std::exception& e) {
      problems.push_back(fmt::format("entry {}: {}", index, e.what()));
    }
  }
  return q;
}

}  // namespace p2p
