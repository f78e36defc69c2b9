// publish_and_keep_tokens: one tracker after another; private metas never leave.
#include "app/publish_and_keep_tokens.hpp"

#include <fmt/core.h>

#include "tracker_client/owner_token_file.hpp"
#include "tracker_client/tracker_client.hpp"

namespace p2p {

std::vector<std::string> publish_and_keep_tokens(const Meta& meta, const std::string& meta_json,
                                                 const std::filesystem::path& meta_path,
                                                 const std::vector<std::string>& trackers,
                                                 const PublishToTracker& publish) {
  if (meta.is_private)
    return {fmt::format("{} is a private meta: it holds its swarm key and is never published to a tracker "
                        "(give the meta file to the members instead); serving it to them",
                        meta.name)};
  std::vector<std::string> said;
  for (const auto& t : trackers) {
    auto token = publish ? publish(t, meta_json) : tracker_client::publish_meta(t, meta_json);
    if (!token) {
      said.push_back(fmt::format("{} was already published on tracker {}", meta.name, t));
      continue;
    }
    auto file = owner_token_file_for(meta_path);
    save_owner_token(file, t, *token);
    said.push_back(
        fmt::format("published {} to tracker {}; its owner token (to withdraw it) is in {}", meta.name, t, file.string()));
  }
  return said;
}

}  // namespace p2p
