// NodeApi: checks, then routing. Refusals name the endpoint and the reason.
#include "web/node_api.hpp"

#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "base/limits.hpp"
#include "format/bounded_json.hpp"
#include "format/json_text.hpp"

#include "web/assets.hpp"
#include "web/node_metrics.hpp"
#include "web/node_web.hpp"
#include "web/status_json.hpp"

namespace p2p::web {

using net::HttpRequest;
using net::HttpResponse;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxAddBodyBytes = 8 * 1024;  // {"meta": "<a path>"}; PATH_MAX is 4 KiB
constexpr std::size_t kMaxListItems = 64;             // trackers, peers, patterns in one request

// A list of strings in a request body, each 1-4096 bytes; throws naming the key.
std::vector<std::string> strings_of(const json& body, const char* key) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  const json& v = body[key];
  if (!v.is_array() || v.size() > kMaxListItems)
    throw std::runtime_error(fmt::format("{} must be a list of at most {} strings", key, kMaxListItems));
  for (const auto& x : v) {
    if (!x.is_string() || x.get_ref<const std::string&>().empty() || x.get_ref<const std::string&>().size() > 4096)
      throw std::runtime_error(fmt::format("{} must hold strings of 1-4096 bytes", key));
    out.push_back(x.get<std::string>());
  }
  return out;
}

// POST /api/downloads: the body as a DownloadRequest; throws with the reason.
DownloadRequest download_request(std::string_view text) {
  json body;
  BoundedJsonProblem problem = BoundedJsonProblem::none;
  if (!parse_bounded_json(text, {limits::kMaxMetaJsonValues + 4 * kMaxListItems + 16, limits::kMaxMetaJsonDepth + 1}, body,
                          problem) ||
      !body.is_object())
    throw std::runtime_error(problem == BoundedJsonProblem::malformed || problem == BoundedJsonProblem::none
                                 ? "the body must be a JSON object"
                                 : "the body is too large or too deeply nested for a meta");
  DownloadRequest r;
  int given = 0;
  if (body.contains("meta")) {
    ++given;
    if (!body["meta"].is_object()) throw std::runtime_error("meta must be the meta's JSON object (the .p2pmeta's content)");
    r.meta_text = json_text(body["meta"]);
  }
  if (body.contains("meta_path")) {
    ++given;
    if (!body["meta_path"].is_string() || body["meta_path"].get_ref<const std::string&>().empty() ||
        body["meta_path"].get_ref<const std::string&>().size() > 4096)
      throw std::runtime_error("meta_path must be a path of 1-4096 bytes");
    r.meta_path = body["meta_path"].get<std::string>();
  }
  if (body.contains("info_hash")) {
    ++given;
    Digest d{};
    if (!body["info_hash"].is_string() || !digest_from_hex(body["info_hash"].get_ref<const std::string&>(), d))
      throw std::runtime_error("info_hash must be 64 hex digits");
    r.info_hash = to_hex(d);
  }
  if (given != 1) throw std::runtime_error("give exactly one of meta, meta_path and info_hash");
  r.trackers = strings_of(body, "trackers");
  r.peers = strings_of(body, "peers");
  r.only = strings_of(body, "only");
  return r;
}

DownloadAction download_action_of(std::string_view name, bool& ok) {
  ok = true;
  if (name == "pause") return DownloadAction::pause;
  if (name == "resume") return DownloadAction::resume;
  if (name == "remove") return DownloadAction::remove;
  if (name == "up") return DownloadAction::up;
  if (name == "down") return DownloadAction::down;
  ok = false;
  return DownloadAction::pause;
}

void answer(HttpResponse& out, const ActionResult& r) {
  if (r.status >= 400) return net::error_response(out, r.status, r.message);
  out.status = r.status;
  json j{{"ok", true}, {"message", r.message}};
  if (!r.info_hash.empty()) j["info_hash"] = r.info_hash;
  out.body = json_text(j);
}

bool numeric_host(std::string_view h) {
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {  // IPv6 literal
    for (char c : h.substr(1, h.size() - 2))
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return false;
    return true;
  }
  int dots = 0;
  for (char c : h) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') return false;
  }
  return dots == 3;
}

}  // namespace

bool host_allowed(std::string_view host) {
  std::string_view name = host;
  if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
    name = host.substr(0, colon);  // drop the port (not inside [v6])
  return name == "localhost" || numeric_host(name);
}

bool same_origin(std::optional<std::string_view> origin, std::optional<std::string_view> fetch_site,
                 std::string_view host) {
  if (fetch_site && *fetch_site != "same-origin" && *fetch_site != "none") return false;
  if (!origin) return true;  // curl, scripts: the token is what counts
  return *origin == fmt::format("http://{}", host);
}

std::size_t NodeApi::body_limit(std::string_view, std::string_view target) const {
  return target == "/api/downloads" ? kMaxMetaUploadBytes : kMaxAddBodyBytes;
}

void NodeApi::handle(const HttpRequest& request, HttpResponse& out, net::HttpDone done) {
  out.reset();
  bool now = true;
  try {
    now = route(request, out, done);
  } catch (const std::exception& e) {
    net::error_response(out, 500, fmt::format("internal error: {}", e.what()));
  }
  if (now) done();
}

bool NodeApi::route(const HttpRequest& request, HttpResponse& out, net::HttpDone done) {
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  auto host = request.header("host");
  if (!host || !host_allowed(*host)) {
    net::error_response(out, 403, "Host must be a numeric address or localhost (this page refuses other names)");
    return true;
  }
  if (request.method == "POST") {
    if (!same_origin(request.header("origin"), request.header("sec-fetch-site"), *host)) {
      net::error_response(out, 403, fmt::format("POST {}: cross-origin requests are refused", std::string(path.substr(0, 100))));
      return true;
    }
    if (!node_.token().authorizes(request.header("authorization"))) {
      net::error_response(out, 403, fmt::format("POST {}: needs the header Authorization: Bearer <token> (printed at "
                                                "start, saved in WORKDIR/.p2p/http-token)",
                                                std::string(path.substr(0, 100))));
      return true;
    }
    if (path == "/api/files") {
      AddRequest add;
      try {
        json body = json::parse(request.body);
        if (!body.is_object()) throw std::runtime_error("not an object");
        if (body.contains("meta") && body["meta"].is_string()) add.meta = body["meta"].get<std::string>();
        if (body.contains("path") && body["path"].is_string()) add.file = body["path"].get<std::string>();
      } catch (const std::exception&) {
        net::error_response(out, 400, "POST /api/files: body must be JSON {\"meta\": PATH} or {\"path\": PATH}");
        return true;
      }
      if (add.meta.empty() == add.file.empty()) {
        net::error_response(out, 400, "POST /api/files: give exactly one of meta (a .p2pmeta) and path (a file to share)");
        return true;
      }
      node_.add(add, [&out, done](ActionResult r) {
        answer(out, r);
        done();
      });
      return false;
    }
    if (path == "/api/downloads") {
      DownloadRequest add;
      try {
        add = download_request(request.body);
      } catch (const std::exception& e) {
        net::error_response(out, 400, fmt::format("POST /api/downloads: {}", e.what()));
        return true;
      }
      node_.add_download(std::move(add), [&out, done](ActionResult r) {
        answer(out, r);
        done();
      });
      return false;
    }
    if (path.starts_with("/api/downloads/")) {
      auto rest = path.substr(15);
      auto slash = rest.find('/');
      Digest d{};
      bool ok = false;
      DownloadAction action = slash == std::string_view::npos ? DownloadAction::pause : download_action_of(rest.substr(slash + 1), ok);
      if (slash == std::string_view::npos || !digest_from_hex(rest.substr(0, slash), d)) {
        net::error_response(out, 400, "POST /api/downloads/<info_hash>/<action>: info_hash must be 64 hex digits");
      } else if (!ok) {
        net::error_response(out, 404, fmt::format("POST /api/downloads/<info_hash>/{:?}: actions are pause, resume, "
                                                  "remove, up, down",
                                                  std::string(rest.substr(slash + 1, 32))));
      } else {
        answer(out, node_.download_action(d, action));
      }
      return true;
    }
    control(path, request, out);
    return true;
  }
  if (request.method != "GET") {
    out.allow = request.method == "POST" ? "POST" : "GET, POST";
    net::error_response(out, 405, fmt::format("{}: method not allowed", std::string(request.method.substr(0, 16))));
    return true;
  }
  if (path == "/" || path == "/index.html") path = "/assets/index.html";
  if (path.starts_with("/assets/")) {
    auto name = path.substr(8);
    auto data = find_asset(name);
    if (!data) {
      net::error_response(out, 404, fmt::format("no such asset: {:?}", std::string(name.substr(0, 100))));
      return true;
    }
    out.content_type = asset_type(name);
    out.body = *data;
    return true;
  }
  if (path == "/events") {
    out.content_type = "text/event-stream; charset=utf-8";
    auto stream = std::make_shared<net::HttpStream>();
    node_.subscribe(stream);  // at the cap the oldest stream ends (NodeWeb::subscribe)
    out.stream = std::move(stream);
    return true;
  }
  if (path == "/metrics") {
    out.content_type = "text/plain; version=0.0.4; charset=utf-8";
    out.body = render_node_metrics(node_.snapshot());
    return true;
  }
  if (path == "/api/status" || path == "/api/files") {
    out.body = node_.status(path == "/api/status");
    return true;
  }
  if (path == "/api/downloads") {
    if (!node_.identity().can_download) {
      net::error_response(out, 409, fmt::format("a {} node has no download queue; p2p-seed --http has", node_.identity().kind));
      return true;
    }
    out.body = downloads_json(node_.downloads());
    return true;
  }
  if (path.starts_with("/api/files/") && path.ends_with("/peers")) {
    auto hex = path.substr(11, path.size() - 11 - 6);
    Digest d{};
    if (!digest_from_hex(hex, d)) {
      net::error_response(out, 400, "GET /api/files/<info_hash>/peers: info_hash must be 64 hex digits");
      return true;
    }
    for (const auto& t : node_.snapshot().torrents)
      if (t.stats.info_hash_hex == to_hex(d)) {
        out.body = peers_json(t);
        return true;
      }
    net::error_response(out, 404, fmt::format("no file with info_hash {} here", to_hex(d)));
    return true;
  }
  net::error_response(out, 404, fmt::format("no such endpoint: GET {:?}", std::string(path.substr(0, 200))));
  return true;
}

// POST /api/files/<info_hash>/(pause|resume|stop|remove)
void NodeApi::control(std::string_view path, const HttpRequest&, HttpResponse& out) {
  constexpr std::string_view kPrefix = "/api/files/";
  if (!path.starts_with(kPrefix)) {
    net::error_response(out, 404, fmt::format("no such endpoint: POST {:?}", std::string(path.substr(0, 200))));
    return;
  }
  auto rest = path.substr(kPrefix.size());
  auto slash = rest.find('/');
  Digest d{};
  if (slash == std::string_view::npos || !digest_from_hex(rest.substr(0, slash), d)) {
    net::error_response(out, 400, "POST /api/files/<info_hash>/<action>: info_hash must be 64 hex digits");
    return;
  }
  auto action = rest.substr(slash + 1);
  if (action == "pause") return answer(out, node_.set_paused(d, true));
  if (action == "resume") return answer(out, node_.set_paused(d, false));
  if (action == "stop" || action == "remove") return answer(out, node_.remove(d));
  net::error_response(out, 404, fmt::format("POST /api/files/<info_hash>/{:?}: actions are pause, resume, stop, remove",
                                            std::string(action.substr(0, 32))));
}

}  // namespace p2p::web
