// The node's HTTP endpoints (docs/API.md) and the checks every request passes
// first: a Host that is a numeric address or "localhost" (a DNS-rebinding page
// cannot reach us under its own name), and for changes (POST) no cross-origin
// Origin / Sec-Fetch-Site and the control token as "Authorization: Bearer".
// Answers come from NodeWeb on the io thread.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <cstddef>

#include "net/http_handler.hpp"

namespace p2p::web {

class NodeWeb;

// POST /api/downloads carries a whole meta: up to the size a tracker takes in a publish.
inline constexpr std::size_t kMaxMetaUploadBytes = 8 * 1024 * 1024;

// Whether a Host header names this machine by number or as localhost (any port).
bool host_allowed(std::string_view host);
// Whether a POST may come from this Origin / Sec-Fetch-Site: none, or the page's own.
bool same_origin(std::optional<std::string_view> origin, std::optional<std::string_view> fetch_site,
                 std::string_view host);

class NodeApi final : public net::HttpHandler {
 public:
  explicit NodeApi(NodeWeb& node) : node_(node) {}
  void set_bound(std::string address) { bound_ = std::move(address); }

  std::size_t body_limit(std::string_view method, std::string_view target) const override;
  void handle(const net::HttpRequest& request, net::HttpResponse& response, net::HttpDone done) override;

 private:
  // Answers at once, or returns false when done() will come later (add).
  bool route(const net::HttpRequest& request, net::HttpResponse& out, net::HttpDone done);
  void control(std::string_view path, const net::HttpRequest& request, net::HttpResponse& out);

  NodeWeb& node_;
  std::string bound_;
};

}  // namespace p2p::web
