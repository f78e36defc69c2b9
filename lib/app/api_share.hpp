// What p2p-seed does for POST /api/files (web/node_api.hpp): share a meta's file,
// or a file (its meta created in WORKDIR/.p2p/metas/), verified on the hashing
// pool, then added to the session on the io thread; published if --publish.
#pragma once
#include <string>
#include <vector>

#include "app/source_opener.hpp"
#include "storage/workdir_layout.hpp"
#include "swarm/session.hpp"
#include "web/node_web.hpp"

namespace p2p {

struct ApiShareOptions {
  WorkdirLayout layout;
  std::vector<std::string> trackers;  // added to each meta's own
  bool publish = false;
};

// The handler keeps references to the session and opener: both outlive the page.
web::AddHandler api_share_handler(Session& session, SourceOpener& opener, ApiShareOptions options);

}  // namespace p2p
