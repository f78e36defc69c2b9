// The one completion token for coroutines whose errors are normal (peers and
// clients disconnect): `auto [ec, n] = co_await op(kUseTuple);`. Asio inside:
// include only from .cpp files and private headers.
#pragma once
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace p2p {

inline constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace p2p
