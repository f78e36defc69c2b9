// One HTTP request/answer as a coroutine on the caller's executor (net/http_client.hpp
// has the blocking form). Pulls in Asio's awaitable: include only from .cpp files.
#pragma once
#include <asio/awaitable.hpp>
#include <cstddef>
#include <string>

#include "net/http_client.hpp"

namespace p2p::net {

// Never throws for network trouble: says what went wrong in `error` and how far it
// got in `step`; an answer body above `max_body_bytes` is an error.
asio::awaitable<void> http_exchange(std::string host, std::string port, std::string request, HttpAnswer& answer,
                                    std::string& error, std::string& step, std::size_t max_body_bytes);

}  // namespace p2p::net
