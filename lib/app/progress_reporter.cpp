// ProgressReporter: terminal bar, plain lines, or JSON lines.
#include "app/progress_reporter.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace p2p {

using Json = nlohmann::json;

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.1f} {}", b, units[u]);
}

std::string human_duration(double s) {
  if (s < 10) return fmt::format("{:.2f} s", s);
  auto t = static_cast<long>(s + 0.5);
  if (t < 3600) return fmt::format("{}:{:02}", t / 60, t % 60);
  return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
}

ProgressReporter::ProgressReporter(OutputMode mode, std::string name, bool seeding)
    : mode_(mode), name_(std::move(name)), seeding_(seeding) {
  bool tty = ::isatty(STDERR_FILENO);
  if (mode_ == OutputMode::automatic && !tty) mode_ = OutputMode::plain;
  leveled_ = !tty;
}

void ProgressReporter::set_log_level(LogLevel level) {
  threshold_ = level;
  leveled_ = true;
  if (mode_ == OutputMode::automatic) mode_ = OutputMode::plain;
}

void ProgressReporter::line(LogLevel level, const std::string& text) {
  if (level > threshold_) return;
  clear_bar();
  std::string out = leveled_ ? log_prefix(level) + text : text;
  out += '\n';
  std::fputs(out.c_str(), stderr);
}

namespace {
LogLevel event_level(EventKind kind) {
  return kind == EventKind::banned || kind == EventKind::bad_piece || kind == EventKind::torrent_stopped
             ? LogLevel::warning
             : LogLevel::info;
}
}  // namespace

void ProgressReporter::clear_bar() {
  if (bar_shown_) {
    std::fputs("\r\033[K", stderr);
    bar_shown_ = false;
  }
}

void ProgressReporter::on_listening(const std::string& host, std::uint16_t port) {
  // Seeders always say where they listen (scripts read it); a quiet downloader says nothing.
  if (mode_ == OutputMode::quiet && !seeding_) return;
  if (mode_ == OutputMode::json)
    std::printf("%s\n", Json{{"event", "listening"}, {"host", host}, {"port", port}}.dump().c_str());
  else
    std::printf("listening %s:%u\n", host.c_str(), static_cast<unsigned>(port));
  std::fflush(stdout);
}

void ProgressReporter::on_event(const std::string& torrent, EventKind kind, const std::string& text) {
  std::string name(event_kind_name(kind));
  const std::string& who = torrent.empty() ? name_ : torrent;
  switch (mode_) {
    case OutputMode::quiet:
      if (event_level(kind) <= LogLevel::warning) line(event_level(kind), fmt::format("[{}] {}: {}", who, name, text));
      return;
    case OutputMode::json: {
      Json j{{"event", name}, {"text", text}};
      if (!torrent.empty()) j["torrent"] = torrent;
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
      return;
    }
    default:
      line(event_level(kind), fmt::format("[{}] {}: {}", who, name, text));
  }
}

void ProgressReporter::info(const std::string& text) { on_event("", EventKind::notice, text); }

void ProgressReporter::on_file_complete(const std::string& torrent, const std::string& path, std::uint64_t size) {
  // One line per file only in JSON: a 20,000-file tree shows "files done/total" in its progress instead.
  if (mode_ != OutputMode::json) return;
  std::printf("%s\n", Json{{"event", "file_complete"}, {"torrent", torrent}, {"path", path}, {"size", size}}.dump().c_str());
  std::fflush(stdout);
}

void ProgressReporter::on_progress(const TorrentStats& s) {
  double frac = s.total_bytes ? static_cast<double>(s.verified_bytes) / static_cast<double>(s.total_bytes) : 1.0;
  double left = static_cast<double>(s.total_bytes - s.verified_bytes);
  std::string eta = s.download_rate > 1 && left > 0 ? human_duration(left / s.download_rate) : "-";
  std::string files = s.files_total ? fmt::format("  files {}/{}", s.files_done, s.files_total) : std::string();
  switch (mode_) {
    case OutputMode::quiet:
      return;
    case OutputMode::json: {
      if (seeding_) {  // a seeder reports only when something changed
        auto& seen = last_seen_[s.info_hash_hex];
        if (seen == std::pair{s.uploaded_bytes, s.peers}) return;
        seen = {s.uploaded_bytes, s.peers};
      }
      Json j{{"event", "progress"},
              {"torrent", s.name},
              {"verified_bytes", s.verified_bytes},
              {"total_bytes", s.total_bytes},
              {"downloaded_bytes", s.downloaded_bytes},
              {"uploaded_bytes", s.uploaded_bytes},
              {"pieces_verified", s.pieces_verified},
              {"pieces_total", s.pieces_total},
              {"download_rate", static_cast<std::uint64_t>(s.download_rate)},
              {"upload_rate", static_cast<std::uint64_t>(s.upload_rate)},
              {"peers", s.peers}};
      if (s.files_total) {
        j["files_done"] = s.files_done;
        j["files_total"] = s.files_total;
      }
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
      return;
    }
    case OutputMode::plain: {
      auto now = std::chrono::steady_clock::now();
      if (seeding_) {
        auto& seen = last_seen_[s.info_hash_hex];
        if (seen == std::pair{s.uploaded_bytes, s.peers}) return;
        if (now - last_plain_[""] < std::chrono::seconds(3) && s.peers == seen.second) return;  // one clock for all
        last_plain_[""] = now;
        seen = {s.uploaded_bytes, s.peers};
        line(LogLevel::info, fmt::format("[{}] serving {} peers  up {}/s  uploaded {}", s.name, s.peers,
                                         human_bytes(s.upload_rate), human_bytes(static_cast<double>(s.uploaded_bytes))));
        return;
      }
      if (now - last_plain_[s.info_hash_hex] < std::chrono::seconds(3)) return;
      last_plain_[s.info_hash_hex] = now;
      // Each line names its download (several may run at once).
      line(LogLevel::info, fmt::format("[{}] {:5.1f}%  {} / {}{}  down {}/s  up {}/s  ETA {}  peers {}", s.name, frac * 100,
                                       human_bytes(static_cast<double>(s.verified_bytes)),
                                       human_bytes(static_cast<double>(s.total_bytes)), files,
                                       human_bytes(s.download_rate), human_bytes(s.upload_rate), eta, s.peers));
      return;
    }
    default: {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(frac * kWidth);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.append(static_cast<std::size_t>(kWidth - filled), '.');
      std::fprintf(stderr, "\r\033[K%s [%s] %5.1f%%  %s / %s%s  %s/s  ETA %s  peers %zu", s.name.c_str(), bar.c_str(),
                   frac * 100, human_bytes(static_cast<double>(s.verified_bytes)).c_str(),
                   human_bytes(static_cast<double>(s.total_bytes)).c_str(), files.c_str(),
                   human_bytes(s.download_rate).c_str(), eta.c_str(), s.peers);
      std::fflush(stderr);
      bar_shown_ = true;
    }
  }
}

void ProgressReporter::summary(const TorrentOutcome& o, const std::string& where, const MissingFiles& missing) {
  const auto& s = o.stats;
  double fetched_rate = s.elapsed > 0 ? static_cast<double>(s.downloaded_bytes) / s.elapsed : 0;
  if (mode_ == OutputMode::json) {
    const char* event = o.complete && !seeding_ ? "complete" : o.selection_complete ? "selection_complete" : "stopped";
    std::printf("%s\n", Json{{"event", event},
                             {"torrent", o.name},
                             {"path", where},
                             {"size", s.total_bytes},
                             {"seconds", s.elapsed},
                             {"downloaded_bytes", s.downloaded_bytes},
                             {"uploaded_bytes", s.uploaded_bytes},
                             {"resumed_bytes", s.resumed_bytes},
                             {"wasted_bytes", s.wasted_bytes},
                             {"bad_pieces", s.bad_pieces},
                             {"pieces_verified", s.pieces_verified},
                             {"pieces_total", s.pieces_total},
                             {"average_rate", static_cast<std::uint64_t>(fetched_rate)},
                             {"banned", o.banned},
                             {"missing", missing.names()}}
                            .dump()
                            .c_str());
    std::fflush(stdout);
    return;
  }
  clear_bar();
  if (mode_ == OutputMode::quiet) return;
  auto hb = [](std::uint64_t b) { return human_bytes(static_cast<double>(b)); };
  const std::string& who = name_;  // each summary line names its download by its path
  if (seeding_) {
    line(LogLevel::info, fmt::format("[{}] stopped: uploaded {} in {}", name_, hb(s.uploaded_bytes), human_duration(s.elapsed)));
  } else if (o.complete) {
    line(LogLevel::info,
         fmt::format("[{}] complete: {}, {} in {} ({}/s average); fetched {}, resumed {}, uploaded {}, {} bad pieces", who,
                     where, hb(s.total_bytes), human_duration(s.elapsed), human_bytes(fetched_rate),
                     hb(s.downloaded_bytes), hb(s.resumed_bytes), hb(s.uploaded_bytes), s.bad_pieces));
  } else if (o.selection_complete) {
    line(LogLevel::info, fmt::format("[{}] selected files complete: {}; fetched {}, resumed {}, uploaded {}", who, where,
                                     hb(s.downloaded_bytes), hb(s.resumed_bytes), hb(s.uploaded_bytes)));
  } else {
    line(LogLevel::warning,
         fmt::format("[{}] stopped: {} of {} pieces verified and saved ({}); uploaded {}. Rerun to resume.", who,
                     s.pieces_verified, s.pieces_total, hb(s.verified_bytes), hb(s.uploaded_bytes)));
  }
  if (!missing.empty()) {
    constexpr std::size_t kShown = 10;
    std::string names;
    for (std::size_t i = 0; i < missing.size() && i < kShown; ++i) names += fmt::format("{}{}", i ? ", " : "", missing.name(i));
    if (missing.size() > kShown) names += fmt::format(" and {} more", missing.size() - kShown);
    line(LogLevel::info, fmt::format("[{}] {}: {} of {} files not there yet: {}", who, where, missing.size(),
                                     o.stats.files_total, names));
  }
  for (const auto& b : o.banned) line(LogLevel::warning, fmt::format("[{}] banned peer: {}", who, b));
}

void ProgressReporter::error(const std::string& message, int exit_code) {
  clear_bar();
  if (mode_ == OutputMode::json) {
    std::printf("%s\n", Json{{"event", "error"}, {"message", message}, {"exit_code", exit_code}}.dump().c_str());
    std::fflush(stdout);
  }
}

void ProgressReporter::http_ready(const std::string& address, const std::string& token) {
  if (mode_ == OutputMode::json)
    std::printf("%s\n", Json{{"event", "http"}, {"address", address}, {"url", "http://" + address + "/"}, {"token", token}}
                              .dump()
                              .c_str());
  else
    std::printf("page http://%s/#token=%s\n", address.c_str(), token.c_str());
  std::fflush(stdout);
}

}  // namespace p2p
