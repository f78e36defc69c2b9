// hiredis event hooks on Asio. hiredis decides when it wants to read or write;
// we wait for readiness on its socket and call redisAsyncHandleRead/Write.
// The descriptor never owns the socket: hiredis closes it, so cleanup()
// releases it from Asio first. Pending waits hold the adapter alive, and a
// wait that completes after cleanup finds no context and does nothing.
#include "tracker/redis_asio_adapter.hpp"

#include <hiredis/async.h>

#include <asio.hpp>

namespace p2p::tracker {

namespace {

class Adapter : public std::enable_shared_from_this<Adapter> {
 public:
  Adapter(asio::io_context& io, redisAsyncContext* context) : descriptor_(io), context_(context) {}

  bool attach() {
    asio::error_code ec;
    descriptor_.assign(context_->c.fd, ec);
    if (ec) return false;
    context_->ev.data = this;
    context_->ev.addRead = [](void* p) { static_cast<Adapter*>(p)->add_read(); };
    context_->ev.delRead = [](void* p) { static_cast<Adapter*>(p)->want_read_ = false; };
    context_->ev.addWrite = [](void* p) { static_cast<Adapter*>(p)->add_write(); };
    context_->ev.delWrite = [](void* p) { static_cast<Adapter*>(p)->want_write_ = false; };
    context_->ev.cleanup = [](void* p) { static_cast<Adapter*>(p)->cleanup(); };
    return true;
  }

 private:
  // hiredis calls add_* repeatedly ("should be idempotent"): one wait per direction at a time.
  void add_read() {
    want_read_ = true;
    if (reading_ || !context_) return;
    reading_ = true;
    descriptor_.async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](asio::error_code ec) {
      self->reading_ = false;
      if (ec || !self->context_ || !self->want_read_) return;
      redisAsyncHandleRead(self->context_);  // may free the context (cleanup runs inside)
    });
  }

  void add_write() {
    want_write_ = true;
    if (writing_ || !context_) return;
    writing_ = true;
    descriptor_.async_wait(asio::posix::stream_descriptor::wait_write, [self = shared_from_this()](asio::error_code ec) {
      self->writing_ = false;
      if (ec || !self->context_ || !self->want_write_) return;
      redisAsyncHandleWrite(self->context_);
    });
  }

  // hiredis is freeing the context: forget it and give the socket back
  // without closing it. Pending waits complete with operation_aborted.
  void cleanup() {
    context_ = nullptr;
    want_read_ = want_write_ = false;
    if (descriptor_.is_open()) descriptor_.release();
  }

  asio::posix::stream_descriptor descriptor_;
  redisAsyncContext* context_;
  bool reading_ = false, writing_ = false, want_read_ = false, want_write_ = false;
};

}  // namespace

std::shared_ptr<void> attach_redis_to_asio(redisAsyncContext* context, asio::io_context& io) {
  auto adapter = std::make_shared<Adapter>(io, context);
  if (!adapter->attach()) return nullptr;
  return adapter;
}

}  // namespace p2p::tracker
