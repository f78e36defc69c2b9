// Redis client internals. States: idle -> connecting (resolve, TCP) ->
// handshaking (SELECT, SCRIPT LOAD) -> up; any failure -> waiting (back-off)
// -> connecting. Replies arrive in hiredis callbacks; they are copied into
// RedisValues there (hiredis frees its reply afterwards) and the waiting
// coroutine is resumed by a post, never from inside hiredis.
#include "tracker/redis_client.hpp"

#include <hiredis/async.h>
#include <openssl/evp.h>

#include <array>
#include <asio.hpp>
#include <charconv>
#include <coroutine>
#include <deque>
#include <span>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/hex.hpp"
#include "tracker/redis_asio_adapter.hpp"
#include "tracker/tracker_limits.hpp"
#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

using Clock = std::chrono::steady_clock;

// --- redis:// URLs --------------------------------------------------------------------

std::string RedisAddress::url() const {
  bool v6 = host.find(':') != std::string::npos;
  return fmt::format("redis://{}{}{}:{}/{}", v6 ? "[" : "", host, v6 ? "]" : "", port, db);
}

RedisAddress parse_redis_url(std::string_view text) {
  auto bad = [&](std::string_view why) -> RedisAddress {
    throw Error(ExitCode::usage, fmt::format("--store {:?}: {} (expected embedded or redis://HOST:PORT[/DB])",
                                             std::string(text.substr(0, 200)), why));
  };
  constexpr std::string_view kScheme = "redis://";
  if (!text.starts_with(kScheme)) return bad("unknown store");
  std::string_view rest = text.substr(kScheme.size());
  RedisAddress a;
  std::string_view hostport = rest.substr(0, rest.find('/'));
  std::string_view path = hostport.size() < rest.size() ? rest.substr(hostport.size() + 1) : std::string_view();
  std::string_view port_text;
  if (hostport.find_first_of("@?# ") != std::string_view::npos)
    return bad("user names, passwords and options are not supported");
  if (hostport.starts_with("[")) {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) return bad("unclosed [ in the host");
    a.host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) return bad("junk after the ]");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    auto colon = hostport.rfind(':');
    a.host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) port_text = hostport.substr(colon + 1);
    if (a.host.find(':') != std::string::npos) return bad("IPv6 hosts go in brackets: redis://[::1]:6379");
  }
  if (a.host.empty()) return bad("no host");
  auto number = [&](std::string_view s, long max, std::string_view name) -> long {
    long v = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0 || v > max)
      bad(fmt::format("{} must be a number in 0-{}, got {:?}", name, max, std::string(s.substr(0, 20))));
    return v;
  };
  if (hostport.ends_with(":")) return bad("empty port");
  if (!port_text.empty()) a.port = static_cast<std::uint16_t>(number(port_text, 65535, "the port"));
  if (a.port == 0) return bad("the port must be in 1-65535");
  if (!path.empty()) a.db = static_cast<int>(number(path, 1'000'000, "the database number"));
  return a;
}

namespace {

std::string sha1_hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), md, &n, EVP_sha1(), nullptr) != 1)
    throw Error(ExitCode::internal, "cannot compute the SHA-1 of a Lua script (OpenSSL EVP_Digest failed)");
  return to_hex(std::span<const std::uint8_t>(md, n));
}

// Limits applied inside hiredis's reader, before it allocates anything for a
// reply: hiredis 0.14 has no limits of its own (a reply announcing two billion
// elements would be allocated). The hooks wrap hiredis's own object functions;
// refusing makes hiredis report an error and drop the connection, and the
// reason is kept here for the 503s and the log.
struct ReplyGuard {
  redisReplyObjectFunctions functions{};
  const redisReplyObjectFunctions* defaults = nullptr;
  std::size_t budget = 0;  // elements still allowed in the reply being read
  std::string refusal;     // why the last reply was refused; empty if none
  bool out_of_memory = false;  // refused because checking it ran out of memory (no words for why)

  static ReplyGuard& of(const redisReadTask* task) { return *static_cast<ReplyGuard*>(task->privdata); }

  // C callbacks: nothing may throw out of them.
  static void* create_array(const redisReadTask* task, int elements) noexcept {
    ReplyGuard& g = of(task);
    try {
      std::size_t depth = 0;
      for (const redisReadTask* t = task->parent; t; t = t->parent) ++depth;
      if (depth == 0) g.budget = limits::kRedisMaxReplyElements;
      if (depth >= limits::kRedisMaxReplyDepth) return g.refuse("a reply nested too deeply");
      if (elements < 0 || static_cast<std::size_t>(elements) > g.budget)
        return g.refuse(fmt::format("an array of {} elements, more than the {} allowed", elements,
                                    limits::kRedisMaxReplyElements));
    } catch (...) {  // only std::bad_alloc can come from the checks above
      return g.refuse_out_of_memory();
    }
    g.budget -= static_cast<std::size_t>(elements);
    return g.defaults->createArray(task, elements);
  }
  static void* create_string(const redisReadTask* task, char* str, std::size_t len) noexcept {
    ReplyGuard& g = of(task);
    try {
      if (len > limits::kRedisMaxStringBytes)
        return g.refuse(fmt::format("a string of {} bytes, more than the {} allowed", len, limits::kRedisMaxStringBytes));
    } catch (...) {  // only std::bad_alloc can come from the checks above
      return g.refuse_out_of_memory();
    }
    return g.defaults->createString(task, str, len);
  }
  void* refuse(const std::string& why) {
    refusal = "Redis answered " + why;
    return nullptr;  // hiredis: "Out of memory", then the connection is dropped
  }
  // Refused without allocating: the reason is a fixed text, given by why().
  void* refuse_out_of_memory() noexcept {
    out_of_memory = true;
    return nullptr;
  }
  // Why the last reply was refused; empty if none.
  std::string why() const {
    return out_of_memory ? "a Redis reply was dropped: out of memory while checking its size" : refusal;
  }

  void attach(redisAsyncContext* ac) {
    defaults = ac->c.reader->fn;
    functions = *defaults;
    functions.createArray = &ReplyGuard::create_array;
    functions.createString = &ReplyGuard::create_string;
    refusal.clear();
    out_of_memory = false;
    ac->c.reader->fn = &functions;
    ac->c.reader->privdata = this;
  }
};

// Copies a reply the guard has let through (within the limits) into our own
// value: hiredis frees its reply when the callback returns.
RedisValue copy_reply(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::integer;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_NIL: break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      v.type = r->type == REDIS_REPLY_STRING ? RedisValue::Type::string
               : r->type == REDIS_REPLY_STATUS ? RedisValue::Type::status
                                               : RedisValue::Type::error;
      v.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::array;
      v.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) v.elements.push_back(copy_reply(r->element[i]));
      break;
    default: throw StoreUnavailable(fmt::format("Redis answered a reply of unknown type {}", r->type));
  }
  return v;
}

}  // namespace

// --- the connection -------------------------------------------------------------------

struct RedisClient::Impl : std::enable_shared_from_this<Impl> {
  enum class State { idle, connecting, handshaking, up, waiting, stopped };

  // One pipelined batch: its replies and the coroutine waiting for all of them.
  struct Batch {
    struct Slot {
      Batch* batch;
      std::size_t index;
    };
    static constexpr std::size_t kInlineSlots = 8;  // an announce's pipeline fits without an allocation
    Impl* impl = nullptr;
    std::vector<RedisValue> replies;
    std::array<Slot, kInlineSlots> inline_slots;
    std::vector<Slot> more_slots;
    Slot& slot(std::size_t i) { return i < kInlineSlots ? inline_slots[i] : more_slots[i - kInlineSlots]; }
    std::size_t remaining = 0;
    std::string failure;
    std::coroutine_handle<> waiter;
  };

  Impl(asio::io_context& io, RedisAddress address, std::vector<std::string> scripts, Log log)
      : io(io), address(std::move(address)), url(this->address.url()), scripts(std::move(scripts)), log(std::move(log)),
        resolver(io), retry(io), watchdog(io), backoff(limits::kRedisReconnectMin) {
    for (const auto& s : this->scripts) shas.push_back(sha1_hex(s));
  }

  std::string unavailable(std::string_view why) const {
    return fmt::format("tracker store ({}) unavailable: {}", url, why);
  }

  void start() {
    if (state != State::idle) return;
    arm_watchdog();
    connect();
  }

  void connect() {
    state = State::connecting;
    attempt_started = Clock::now();
    // hiredis resolves names with a blocking getaddrinfo; resolve here instead.
    resolver.async_resolve(address.host, std::to_string(address.port),
                           [self = shared_from_this()](asio::error_code ec, asio::ip::tcp::resolver::results_type r) {
                             if (self->state != State::connecting) return;
                             if (ec) return self->went_down(fmt::format("cannot resolve {}: {}", self->address.host, ec.message()));
                             self->open(r.begin()->endpoint().address().to_string());
                           });
  }

  void open(const std::string& ip) {
    redisAsyncContext* ac = redisAsyncConnect(ip.c_str(), address.port);
    if (!ac) return went_down("out of memory");
    if (ac->err) {
      std::string why = ac->errstr;
      redisAsyncFree(ac);
      return went_down(why);
    }
    adapter = attach_redis_to_asio(ac, io);
    if (!adapter) {
      redisAsyncFree(ac);
      return went_down("cannot watch the socket");
    }
    ac->data = this;
    // Keep the reply buffer between reads instead of freeing and regrowing it
    // whenever it holds more than 16 KiB unused (hiredis's default): replies
    // stream in all the time.
    ac->c.reader->maxbuf = 0;
    reply_guard.attach(ac);
    context = ac;
    redisAsyncSetConnectCallback(ac, &Impl::on_connect);
    redisAsyncSetDisconnectCallback(ac, &Impl::on_disconnect);
  }

  static void on_connect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<Impl*>(ac->data);
    if (status != REDIS_OK) {
      self->context = nullptr;  // hiredis frees it when we return
      return self->went_down(ac->errstr);
    }
    self->handshake();
  }

  static void on_disconnect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<Impl*>(ac->data);
    self->context = nullptr;  // freed when we return
    if (self->state == State::stopped) return;
    self->went_down(status == REDIS_OK && self->drop_reason.empty() ? "connection closed" : self->why_lost(ac));
  }

  // Why the connection is going: a reply our guard refused, hiredis's own
  // error (e.g. a protocol error), or the reason we dropped it.
  std::string why_lost(const redisAsyncContext* ac) const {
    if (auto why = reply_guard.why(); !why.empty()) return why;
    if (ac->err) return ac->errstr;
    return drop_reason.empty() ? "connection lost before the answer" : drop_reason;
  }

  // SELECT and SCRIPT LOAD before anything else on this connection; Redis
  // answers in order, so commands sent after them find their scripts.
  void handshake() {
    state = State::handshaking;
    handshake_left = 0;
    if (address.db != 0) send_handshake({"SELECT", std::to_string(address.db)}, SIZE_MAX);
    for (std::size_t i = 0; i < scripts.size(); ++i) send_handshake({"SCRIPT", "LOAD", scripts[i]}, i);
    if (handshake_left == 0) came_up();  // nothing to prepare
  }

  void send_handshake(const RedisCommand& cmd, std::size_t script) {
    handshake_steps.push_back(HandshakeStep{this, script, generation});
    ++handshake_left;
    send(cmd, &Impl::on_handshake_reply, &handshake_steps.back());
  }

  struct HandshakeStep {
    Impl* impl;
    std::size_t script;  // SIZE_MAX: SELECT
    std::uint64_t generation;
  };

  static void on_handshake_reply(redisAsyncContext*, void* reply, void* privdata) {
    auto* step = static_cast<HandshakeStep*>(privdata);
    Impl* self = step->impl;
    if (!reply || step->generation != self->generation || self->state != State::handshaking) return;
    auto* r = static_cast<redisReply*>(reply);
    std::string problem;
    if (r->type == REDIS_REPLY_ERROR) problem = std::string(r->str, r->len);
    else if (step->script != SIZE_MAX &&
             (r->type != REDIS_REPLY_STRING || std::string_view(r->str, r->len) != self->shas[step->script]))
      problem = "SCRIPT LOAD answered an unexpected SHA-1";
    if (!problem.empty()) return self->drop(problem);  // e.g. LOADING: retry after the back-off
    if (--self->handshake_left == 0) self->came_up();
  }

  void came_up() {
    state = State::up;
    backoff = limits::kRedisReconnectMin;
    last_error.clear();
    if (reported_down) log(fmt::format("store {} is back", url));
    else if (!ever_up) log(fmt::format("store {} connected", url));
    reported_down = false;
    ever_up = true;
  }

  void went_down(const std::string& why) {
    if (state == State::stopped || state == State::waiting) return;
    state = State::waiting;
    last_error = why;
    drop_reason.clear();
    if (!reported_down) {
      log(fmt::format("store {} unavailable: {}; answering 503 and reconnecting", url, why));
      reported_down = true;
    }
    retry.expires_after(backoff);
    backoff = std::min(backoff * 2, std::chrono::duration_cast<std::chrono::milliseconds>(limits::kRedisReconnectMax));
    retry.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (!ec && self->state == State::waiting) {
        ++self->generation;
        self->handshake_steps.clear();
        self->connect();
      }
    });
  }

  // Closes the connection from our side (stuck, bad handshake); every waiting
  // command fails now and the back-off starts.
  void drop(const std::string& why) {
    drop_reason = why;
    if (context) {
      redisAsyncContext* ac = context;
      context = nullptr;
      redisAsyncFree(ac);  // runs pending callbacks (NULL replies), then on_disconnect if connected
    }
    went_down(why);  // no-op if on_disconnect already did it
  }

  void arm_watchdog() {
    watchdog.expires_after(std::chrono::milliseconds(250));
    watchdog.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (ec || self->state == State::stopped) return;
      auto now = Clock::now();
      if ((self->state == State::connecting || self->state == State::handshaking) &&
          now - self->attempt_started > limits::kRedisConnectTimeout) {
        self->resolver.cancel();
        self->drop(fmt::format("no connection within {} ms", limits::kRedisConnectTimeout.count()));
      } else if (self->state == State::up && !self->in_flight.empty() &&
                 now - self->in_flight.front() > limits::kRedisCommandTimeout) {
        self->drop(fmt::format("no answer within {} ms", limits::kRedisCommandTimeout.count()));
      }
      self->arm_watchdog();
    });
  }

  bool send(const RedisCommand& cmd, redisCallbackFn* fn, void* privdata) {
    if (!context) return false;
    // hiredis wants parallel arrays of pointers and lengths; most commands fit on the stack.
    constexpr std::size_t kInline = 32;
    std::array<const char*, kInline> argv_inline;
    std::array<std::size_t, kInline> lens_inline;
    std::vector<const char*> argv_heap;
    std::vector<std::size_t> lens_heap;
    const char** argv = argv_inline.data();
    std::size_t* lens = lens_inline.data();
    if (cmd.size() > kInline) {
      argv_heap.resize(cmd.size());
      lens_heap.resize(cmd.size());
      argv = argv_heap.data();
      lens = lens_heap.data();
    }
    std::size_t i = 0;
    cmd.for_each_word([&](std::string_view word) {
      argv[i] = word.data();
      lens[i] = word.size();
      ++i;
    });
    return redisAsyncCommandArgv(context, fn, privdata, static_cast<int>(cmd.size()), argv, lens) == REDIS_OK;
  }

  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
    auto* slot = static_cast<Batch::Slot*>(privdata);
    Batch& b = *slot->batch;
    Impl* self = b.impl;
    if (!self->in_flight.empty()) self->in_flight.pop_front();
    if (!reply) {
      // The connection is going: say why (hiredis's error, e.g. a protocol error, or ours).
      if (b.failure.empty()) b.failure = self->why_lost(ac);
    } else {
      try {
        RedisValue v = copy_reply(static_cast<redisReply*>(reply));
        // Redis restarted without our scripts (or SCRIPT FLUSH): reconnecting reloads them.
        if (v.is_error() && v.text.starts_with("NOSCRIPT")) self->post_drop("Redis lost the tracker's Lua scripts");
        b.replies[slot->index] = std::move(v);
      } catch (const StoreUnavailable& e) {
        if (b.failure.empty()) b.failure = e.what();
      }
    }
    if (--b.remaining == 0) asio::post(self->io, [h = b.waiter] { h.resume(); });
  }

  // drop() from inside a hiredis callback would free the context under it.
  void post_drop(std::string why) {
    asio::post(io, [self = shared_from_this(), why = std::move(why)] {
      if (self->state == State::up) self->drop(why);
    });
  }

  void stop() {
    if (state == State::stopped) return;
    state = State::stopped;
    resolver.cancel();
    retry.cancel();
    watchdog.cancel();
    drop_reason = "the tracker is stopping";
    if (context) {
      redisAsyncContext* ac = context;
      context = nullptr;
      redisAsyncFree(ac);
    }
  }

  asio::io_context& io;
  RedisAddress address;
  std::string url;
  std::vector<std::string> scripts, shas;
  Log log;
  asio::ip::tcp::resolver resolver;
  asio::steady_timer retry, watchdog;
  std::chrono::milliseconds backoff;

  State state = State::idle;
  redisAsyncContext* context = nullptr;  // null whenever hiredis has freed it (or is about to)
  std::shared_ptr<void> adapter;         // kept until the next connection: hiredis's cleanup uses it
  ReplyGuard reply_guard;                // the reader's limits (one connection at a time)
  std::uint64_t generation = 0;          // connection attempts; stale handshake replies are ignored
  std::deque<HandshakeStep> handshake_steps;  // a deque: their addresses are hiredis privdata
  std::size_t handshake_left = 0;
  Clock::time_point attempt_started;
  std::deque<Clock::time_point> in_flight;  // send time of each unanswered command, oldest first
  std::string last_error = "not connected yet";
  std::string drop_reason;
  bool reported_down = false, ever_up = false;
};

namespace {

// Suspends until every command of the batch is answered (or failed).
struct BatchAwaiter {
  RedisClient::Impl& impl;
  std::span<const RedisCommand> commands;
  RedisClient::Impl::Batch& batch;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    batch.waiter = h;
    batch.impl = &impl;
    batch.replies.resize(commands.size());
    if (commands.size() > batch.kInlineSlots) batch.more_slots.resize(commands.size() - batch.kInlineSlots);
    batch.remaining = commands.size();
    for (std::size_t i = 0; i < commands.size(); ++i) {
      batch.slot(i) = {&batch, i};
      if (impl.send(commands[i], &RedisClient::Impl::on_reply, &batch.slot(i))) {
        impl.in_flight.push_back(Clock::now());
      } else {
        if (batch.failure.empty()) batch.failure = "connection closing";
        --batch.remaining;
      }
    }
    return batch.remaining > 0;  // nothing sent: resume at once
  }
  void await_resume() const noexcept {}
};

}  // namespace

RedisClient::RedisClient(asio::io_context& io, RedisAddress address, std::vector<std::string> scripts, Log log)
    : impl_(std::make_shared<Impl>(io, std::move(address), std::move(scripts), std::move(log))) {}

RedisClient::~RedisClient() { impl_->stop(); }

void RedisClient::start() { impl_->start(); }
void RedisClient::stop() { impl_->stop(); }
bool RedisClient::up() const { return impl_->state == Impl::State::up; }
const std::string& RedisClient::url() const { return impl_->url; }

RedisCommand RedisClient::script_call(std::size_t index, std::initializer_list<std::string_view> args) const {
  RedisCommand cmd{"EVALSHA", impl_->shas.at(index), "0"};
  for (std::string_view a : args) cmd.add(a);
  return cmd;
}

namespace {

// Fails at once, without queueing, when the answer cannot come.
void check_ready(const RedisClient::Impl& impl, std::size_t commands) {
  using Impl = RedisClient::Impl;
  if (impl.state != Impl::State::up)
    throw StoreUnavailable(impl.unavailable(impl.state == Impl::State::stopped ? "the tracker is stopping"
                                                                                : impl.last_error));
  if (impl.in_flight.size() + commands > limits::kRedisMaxPending)
    throw StoreUnavailable(impl.unavailable(fmt::format("more than {} commands waiting", limits::kRedisMaxPending)));
}

}  // namespace

// Both hold the impl (not this client) while they wait: it outlives a stopped client.
Task<std::vector<RedisValue>> RedisClient::pipeline(std::vector<RedisCommand> commands) {
  std::shared_ptr<Impl> impl = impl_;
  check_ready(*impl, commands.size());
  Impl::Batch batch;
  co_await BatchAwaiter{*impl, commands, batch};
  if (!batch.failure.empty()) throw StoreUnavailable(impl->unavailable(batch.failure));
  co_return std::move(batch.replies);
}

Task<RedisValue> RedisClient::command(RedisCommand cmd) {
  std::shared_ptr<Impl> impl = impl_;
  check_ready(*impl, 1);
  Impl::Batch batch;
  co_await BatchAwaiter{*impl, std::span<const RedisCommand>(&cmd, 1), batch};
  if (!batch.failure.empty()) throw StoreUnavailable(impl->unavailable(batch.failure));
  co_return std::move(batch.replies.front());
}

}  // namespace p2p::tracker
