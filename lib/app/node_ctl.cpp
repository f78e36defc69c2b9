// run_ctl: resolve the node and the token, send one request, print the answer.
#include "app/node_ctl.hpp"

#include <fmt/core.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/hex.hpp"
#include "base/limits.hpp"
#include "format/json_text.hpp"
#include "format/meta.hpp"
#include "net/http_client.hpp"
#include "web/node_api.hpp"

namespace p2p {

using nlohmann::json;

namespace {

constexpr auto kTimeout = std::chrono::seconds(30);  // an add by info hash asks the trackers first
constexpr std::size_t kMaxAnswerBytes = 64 * 1024 * 1024;

std::string host_port_of(std::string node) {
  if (node.starts_with("https://"))
    throw Error(ExitCode::usage, fmt::format("--node {}: the node's API is plain HTTP (http://HOST:PORT)", node));
  if (node.starts_with("http://")) node = node.substr(7);
  while (!node.empty() && node.back() == '/') node.pop_back();
  if (node.find('/') != std::string::npos || node.empty())
    throw Error(ExitCode::usage, fmt::format("--node {:?}: give http://HOST:PORT", node));
  return node;
}

class Client {
 public:
  Client(const CtlOptions& o, bool need_token) : address_(host_port_of(o.node)) {
    if (!need_token) return;
    auto file = o.token_file.empty() ? o.workdir / ".p2p" / "http-token" : o.token_file;
    try {
      token_ = read_small_file(file, 1024);
    } catch (const Error&) {
      throw Error(ExitCode::usage,
                  fmt::format("no control token in {}: give --token-file FILE (the node prints its token at start and "
                              "saves it in its WORKDIR/.p2p/http-token), or --workdir of a node on this machine",
                              file.string()));
    }
    while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r' || token_.back() == ' ')) token_.pop_back();
    if (!is_hex(token_, 64))
      throw Error(ExitCode::usage, fmt::format("{} does not hold a control token (64 hex digits)", file.string()));
  }

  // The answer's JSON object; Error(node) for no answer, a refusal (with the node's reason) or a non-JSON answer.
  json call(std::string_view method, const std::string& target, const std::string& body = {}) {
    net::HttpCallFailure f;
    auto a = net::http_call(address_, method, target, body, token_, kTimeout, kMaxAnswerBytes, f);
    if (!a)
      throw Error(ExitCode::tracker, f.timed_out ? fmt::format("node {}: no answer within {} s ({})", address_,
                                                            kTimeout.count(), f.step)
                                              : fmt::format("node {}: {}", address_, f.error));
    json j = json::parse(a->body, nullptr, false);
    if (a->status < 200 || a->status > 299) {
      std::string why = j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>()
                                                                                        : "no reason given";
      throw Error(ExitCode::tracker, fmt::format("node {}: HTTP {} for {} {}: {}", address_, a->status, method,
                                              target, why));
    }
    if (!j.is_object()) throw Error(ExitCode::tracker, fmt::format("node {}: the answer to {} is not JSON", address_, target));
    return j;
  }

  // A file's full info hash from an id or a unique prefix of one (as `ls` shows it).
  std::string resolve(std::string id) {
    for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (is_hex(id, 64)) return id;
    if (id.size() < 4 || id.size() > 64 || !is_hex(id, id.size()))
      throw Error(ExitCode::usage, fmt::format("{:?} is not a file's id: give its info hash, or the start of it as "
                                               "`ls` shows it (at least 4 hex digits)",
                                               id));
    json files = call("GET", "/api/files")["files"];
    std::string found;
    for (const auto& f : files) {
      std::string ih = f.value("info_hash", "");
      if (!ih.starts_with(id)) continue;
      if (!found.empty()) throw Error(ExitCode::usage, fmt::format("{:?} starts more than one file's id: give more digits", id));
      found = ih;
    }
    if (found.empty()) throw Error(ExitCode::tracker, fmt::format("node {}: no file whose id starts with {}", address_, id));
    return found;
  }

 private:
  std::string address_, token_;
};

std::string human(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (n >= 1024 && i < 4) n /= 1024, ++i;
  return i ? fmt::format("{:.1f} {}", n, units[i]) : fmt::format("{:.0f} B", n);
}

void print_list(const json& status, std::ostream& out) {
  out << fmt::format("{:<16}  {:<9} {:>6}  {:>10}  {:>11}  {:>11}  {:>5}  {}\n", "ID", "STATE", "DONE", "SIZE", "DOWN",
                     "UP", "PLACE", "NAME");
  for (const auto& f : status.value("files", json::array())) {
    std::string place = f.contains("download") ? std::to_string(f["download"].value("position", 0)) : "-";
    out << fmt::format("{:<16}  {:<9} {:>5.1f}%  {:>10}  {:>9}/s  {:>9}/s  {:>5}  {}", f.value("info_hash", "").substr(0, 16),
                       f.value("phase", ""), 100 * f.value("progress", 0.0), human(f.value("size", 0.0)),
                       human(f.value("download_rate", 0.0)), human(f.value("upload_rate", 0.0)), place, f.value("name", ""));
    if (f.contains("path")) out << "  -> " << f["path"].get<std::string>();
    if (f.contains("error")) out << "  (" << f["error"].get<std::string>() << ")";
    out << "\n";
  }
}

}  // namespace

void run_ctl(const CtlOptions& o, std::ostream& out) {
  const std::string& cmd = o.command;
  Client client(o, cmd != "ls");
  json answer;
  if (cmd == "ls") {
    answer = client.call("GET", "/api/files");
    if (!o.json) return print_list(answer, out);
  } else if (cmd == "add") {
    json body;
    if (!o.info_hash.empty()) {
      if (!o.target.empty()) throw Error(ExitCode::usage, "add: give a meta file or --id, not both");
      body["info_hash"] = o.info_hash;
    } else {
      if (o.target.empty()) throw Error(ExitCode::usage, "add: give a .p2pmeta file, or --id INFO_HASH with --tracker");
      // Checked here first: a bad meta is named on this side, with its path.
      std::string text = read_small_file(o.target, web::kMaxMetaUploadBytes);
      parse_meta(text, o.target);
      body["meta"] = json::parse(text);
    }
    if (!o.trackers.empty()) body["trackers"] = o.trackers;
    if (!o.peers.empty()) body["peers"] = o.peers;
    if (!o.only.empty()) body["only"] = o.only;
    answer = client.call("POST", "/api/downloads", json_text(body));
  } else if (cmd == "pause" || cmd == "resume" || cmd == "rm") {
    std::string ih = client.resolve(o.target);
    answer = client.call("POST", fmt::format("/api/files/{}/{}", ih, cmd == "rm" ? "remove" : cmd));
  } else if (cmd == "move") {
    if (o.direction != "up" && o.direction != "down")
      throw Error(ExitCode::usage, fmt::format("move: say up or down, not {:?}", o.direction));
    std::string ih = client.resolve(o.target);
    answer = client.call("POST", fmt::format("/api/downloads/{}/{}", ih, o.direction));
  } else {
    throw Error(ExitCode::usage, fmt::format("ctl: unknown command {:?} (add, ls, pause, resume, rm, move)", cmd));
  }
  if (o.json) {
    out << json_text(answer) << "\n";
    return;
  }
  std::string msg = answer.value("message", "done");
  std::string ih = answer.value("info_hash", "");
  out << msg << (ih.empty() ? "" : fmt::format(" (id {})", ih.substr(0, 16))) << "\n";
}

}  // namespace p2p
