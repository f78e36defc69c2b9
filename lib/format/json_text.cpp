#include "format/json_text.hpp"

#include <nlohmann/json.hpp>

namespace p2p {

std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace p2p
