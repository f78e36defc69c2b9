// Runs a hiredis asynchronous context on an Asio io_context: hiredis's event
// hooks (addRead, delRead, addWrite, delWrite, cleanup) become async_wait
// calls on an asio::posix::stream_descriptor over the context's socket. The
// same job as hiredis's adapters/libuv.h, for Asio.
#pragma once
#include <memory>

struct redisAsyncContext;
namespace asio {
class io_context;
}

namespace p2p::tracker {

// Attaches `context` to `io`. The returned handle owns the adapter: keep it
// until hiredis has freed the context (its cleanup hook detaches the adapter,
// after which the handle may go). Returns null if the socket cannot be
// registered with the io_context (the caller frees the context).
std::shared_ptr<void> attach_redis_to_asio(redisAsyncContext* context, asio::io_context& io);

}  // namespace p2p::tracker
