// The tracker's live HTML page: self-contained (no CDN, machines may be
// offline), polling /stats and /files every 2 seconds.
#pragma once
#include <string_view>

namespace p2p::tracker {

std::string_view dashboard_html();

}  // namespace p2p::tracker
