// The trackers a job uses: the meta's own, then those given on the command line,
// each validated, without duplicates.
#pragma once
#include <string>
#include <vector>

namespace p2p {

std::vector<std::string> merge_trackers(std::vector<std::string> from_meta, const std::vector<std::string>& extra);

}  // namespace p2p
