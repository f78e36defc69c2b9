// --http HOST:PORT for p2p-seed and p2p-download: the node's web face
// (web/node_web.hpp) placed between the session and the progress reporter,
// served once the session exists, its address and token printed once.
//
//   auto page = make_node_page(http, layout, reporter, "seed");
//   Session session(options, observer_of(page, reporter));
//   auto serving = serve_node_page(page.get(), session, reporter);  // after the session: goes first
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "app/progress_reporter.hpp"
#include "storage/workdir_layout.hpp"
#include "web/node_web.hpp"

namespace p2p {

// Null without --http.
std::unique_ptr<web::NodeWeb> make_node_page(const std::optional<std::string>& http, const WorkdirLayout& layout,
                                             ProgressReporter& reporter, std::string kind);
SessionObserver& observer_of(const std::unique_ptr<web::NodeWeb>& page, ProgressReporter& reporter);
// Binds and serves (Error(bind_failed) if the address is taken); prints the page's
// address with its token once (a JSON "http" event under --json).
std::optional<web::NodeWeb::Serving> serve_node_page(web::NodeWeb* page, Session& session, ProgressReporter& reporter);

}  // namespace p2p
