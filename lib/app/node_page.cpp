// make_node_page / serve_node_page.
#include "app/node_page.hpp"

namespace p2p {

std::unique_ptr<web::NodeWeb> make_node_page(const std::optional<std::string>& http, const WorkdirLayout& layout,
                                             ProgressReporter& reporter, std::string kind) {
  if (!http) return nullptr;
  web::NodeWebOptions o;
  // A bare port means this machine only: the page controls the node.
  o.address = http->find(':') == std::string::npos ? "127.0.0.1:" + *http : *http;
  o.token_file = layout.own_dir / "http-token";
  o.identity.kind = std::move(kind);
  return std::make_unique<web::NodeWeb>(reporter, std::move(o));
}

SessionObserver& observer_of(const std::unique_ptr<web::NodeWeb>& page, ProgressReporter& reporter) {
  if (page) return *page;
  return reporter;
}

std::optional<web::NodeWeb::Serving> serve_node_page(web::NodeWeb* page, Session& session, ProgressReporter& reporter) {
  if (!page) return std::nullopt;
  auto serving = page->attach(session);
  reporter.http_ready(page->address(), page->token().hex());
  return serving;
}

}  // namespace p2p
