// JSON to text for answers and logs. Names, paths and texts from peers, metas and the disk
// may be any bytes: serialising never throws on them (invalid UTF-8 becomes U+FFFD).
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace p2p {

std::string json_text(const nlohmann::json& j);

}  // namespace p2p
