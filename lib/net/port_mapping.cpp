// Port mapping, the edge: libnatpmp and miniupnpc calls on the mapper's own thread.
// NAT-PMP is tried first: one UDP datagram to the default gateway, answered within
// milliseconds when the gateway speaks it and refused at once (ICMP port unreachable)
// when it does not, and its answer names the external port actually granted. UPnP-IGD
// needs a multicast search (we wait 2 s for answers), an XML description and SOAP
// calls, so it comes second. PCP (NAT-PMP's successor) is not tried: libnatpmp has none.
#include "net/port_mapping.hpp"

#include <arpa/inet.h>
#include <poll.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/core.h>

#include <atomic>
#include <optional>
#include <string>

#define ENABLE_STRNATPMPERR  // natpmp.h declares strnatpmperr() only then; libnatpmp has it
#include <natpmp.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

namespace p2p {

namespace {
using Clock = std::chrono::steady_clock;
// NAT-PMP's own retransmissions are 250 ms, 500 ms, 1 s, ... (RFC 6886 §3.1): 2 s covers
// the first three. Removal at exit gets less: the process is on its way out.
constexpr auto kNatPmpWait = std::chrono::milliseconds(2000);
constexpr auto kNatPmpRemoveWait = std::chrono::milliseconds(1000);
constexpr auto kAbortCheck = std::chrono::milliseconds(20);
// At exit, how long finish() waits for the mapper's thread: long enough to remove a mapping
// we hold; when we hold none, only as long as a NAT-PMP wait takes to notice the stop, and
// not at all during a UPnP search (2 s, not interruptible): there is nothing to remove.
// (A fixed 300 ms was paid by every download shorter than a mapping round behind a gateway
// that maps nothing: 344 against 38 ms for 1 MiB, bench/exit_bench.sh.) Past the wait the
// thread is left to end on its own: it posts nothing more and touches nothing of the session.
constexpr auto kFinishWaitHolding = std::chrono::milliseconds(3000);
constexpr auto kFinishWaitIdle = kAbortCheck;
constexpr int kUpnpDiscoverMs = 2000;  // how long to collect SSDP answers
constexpr unsigned char kUpnpTtl = 2;  // the gateway is the first hop; 2 as miniupnpc's default
constexpr const char* kUpnpDescription = "p2p-share";
constexpr int kUpnpConflictRetries = 3;  // other external ports to try when ours is taken

struct Held {  // the mapping we hold on the gateway, to renew and remove
  MappingMethod method = MappingMethod::natpmp;
  std::uint16_t external_port = 0;
  std::string control_url, service_type, lan_addr;  // UPnP: where we asked, and for which address
};

// Reads a NAT-PMP answer, letting libnatpmp retransmit, until `deadline` or until `abort`
// is set (checked every 100 ms: the process is stopping and nothing is held yet).
int natpmp_wait(natpmp_t& n, natpmpresp_t& resp, Clock::time_point deadline, const std::atomic<bool>* abort = nullptr) {
  for (;;) {
    int r = readnatpmpresponseorretry(&n, &resp);
    if (r != NATPMP_TRYAGAIN) return r;
    auto now = Clock::now();
    if (now >= deadline || (abort && *abort)) return NATPMP_TRYAGAIN;
    timeval tv{};
    getnatpmprequesttimeout(&n, &tv);
    auto lib_ms = std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    pollfd pfd{n.s, POLLIN, 0};
    ::poll(&pfd, 1, static_cast<int>(std::clamp(lib_ms, std::chrono::milliseconds(1), std::min(left, kAbortCheck)).count()));
  }
}

// The gateway stayed silent or does not speak the protocol (ICMP refused), as opposed
// to answering with an error.
bool natpmp_silent(int r) {
  return r == NATPMP_TRYAGAIN || r == NATPMP_ERR_NOGATEWAYSUPPORT || r == NATPMP_ERR_CANNOTGETGATEWAY ||
         r == NATPMP_ERR_RECVFROM || r == NATPMP_ERR_WRONGPACKETSOURCE || r == NATPMP_ERR_SENDERR;
}

std::string upnp_error(int code) {
  const char* text = strupnperror(code);
  return text ? fmt::format("{} {}", code, text) : fmt::format("error {}", code);
}
}  // namespace

struct PortMapper::Worker {
  asio::io_context& session_io;
  std::uint16_t port;
  OnStatus on_status;
  Lifetimes asked;
  asio::io_context own;
  asio::executor_work_guard<asio::io_context::executor_type> guard{own.get_executor()};
  asio::steady_timer timer{own};
  std::atomic<bool> stopping{false};
  std::atomic<bool> holds{false};  // `held` is set (read by finish() on the session's thread)
  std::atomic<bool> ended{false};  // the thread returned
  std::atomic<bool> searching{false};  // in upnpDiscover: 2 s that no stop can cut short
  std::mutex post_mutex;           // a status is posted only while not stopping (the session may go)
  std::optional<Held> held;
  int failures = 0;

  Worker(asio::io_context& io, std::uint16_t p, OnStatus cb, Lifetimes l)
      : session_io(io), port(p), on_status(std::move(cb)), asked(l) {}

  MappingAttempt try_natpmp(std::uint16_t want_external) {
    MappingAttempt a;
    a.method = MappingMethod::natpmp;
    natpmp_t n{};
    if (initnatpmp(&n, 0, 0) < 0) {
      a.detail = "no default gateway";
      return a;
    }
    natpmpresp_t resp{};
    int r = sendpublicaddressrequest(&n);
    if (r >= 0) r = natpmp_wait(n, resp, Clock::now() + kNatPmpWait, &stopping);
    bool no_outside_address = false;
    if (r >= 0) {
      char ip[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, ip, sizeof ip);
      a.external_ip = ip;
      // RFC 6886 §3.2: a gateway without an outside address yet says 0.0.0.0; a mapping there
      // reaches nobody, so none is asked for (nothing to remove later either).
      no_outside_address = resp.pnu.publicaddress.addr.s_addr == 0;
      if (!no_outside_address) {
        r = sendnewportmappingrequest(&n, NATPMP_PROTOCOL_TCP, port, want_external,
                                      static_cast<std::uint32_t>(asked.natpmp.count()));
        if (r >= 0) r = natpmp_wait(n, resp, Clock::now() + kNatPmpWait, &stopping);
      }
    }
    closenatpmp(&n);
    if (r >= 0 && no_outside_address) {
      a.outcome = MappingAttempt::Outcome::refused;
      a.detail = "the gateway has no outside address";
    } else if (r >= 0 && resp.type == NATPMP_RESPTYPE_TCPPORTMAPPING && resp.pnu.newportmapping.mappedpublicport != 0) {
      a.outcome = MappingAttempt::Outcome::mapped;
      a.external_port = resp.pnu.newportmapping.mappedpublicport;
      a.lifetime = std::chrono::seconds(resp.pnu.newportmapping.lifetime);
      if (a.lifetime.count() == 0) a.lifetime = asked.natpmp;  // 0 would mean "deleted": never from a grant
    } else if (r >= 0) {
      a.outcome = MappingAttempt::Outcome::refused;
      a.detail = "answer for another request";
    } else if (!natpmp_silent(r)) {
      a.outcome = MappingAttempt::Outcome::refused;
      a.detail = strnatpmperr(r);
    }
    return a;
  }

  // Renewals go straight to the control URL we used last time (no 2 s search); a gateway
  // that no longer answers there (it restarted on another port, we moved) is searched anew.
  MappingAttempt try_upnp(std::uint16_t want_external) {
    if (held && held->method == MappingMethod::upnp) {
      auto known = *held;
      auto a = upnp_map(known.control_url, known.service_type, known.lan_addr, want_external);
      if (a.outcome == MappingAttempt::Outcome::mapped) return a;
    }
    MappingAttempt a;
    a.method = MappingMethod::upnp;
    int err = 0;
    searching = true;
    UPNPDev* devices = upnpDiscover(kUpnpDiscoverMs, nullptr, nullptr, UPNP_LOCAL_PORT_ANY, 0, kUpnpTtl, &err);
    searching = false;
    if (!devices) return a;
    UPNPUrls urls{};
    IGDdatas data{};
    char lan_addr[64] = {};
    int igd = UPNP_GetValidIGD(devices, &urls, &data, lan_addr, sizeof lan_addr);
    freeUPNPDevlist(devices);
    std::string control = urls.controlURL ? urls.controlURL : "", service = data.first.servicetype;
    FreeUPNPUrls(&urls);  // whatever it returned (free(NULL) on fields it did not fill)
    if (igd == 0) return a;  // devices answered, none of them a gateway
    if (igd != 1) {
      a.outcome = MappingAttempt::Outcome::refused;
      a.detail = igd == 2 ? "the gateway says it is not connected" : "no Internet gateway among the UPnP devices";
      return a;
    }
    return upnp_map(control, service, lan_addr, want_external);
  }

  // GetExternalIPAddress and AddPortMapping at a known IGD control URL.
  MappingAttempt upnp_map(const std::string& control, const std::string& service, const std::string& lan_addr,
                          std::uint16_t want_external) {
    MappingAttempt a;
    a.method = MappingMethod::upnp;
    a.outcome = MappingAttempt::Outcome::refused;
    char ext_ip[40] = {};
    int r = UPNP_GetExternalIPAddress(control.c_str(), service.c_str(), ext_ip);
    if (r != UPNPCOMMAND_SUCCESS) {
      a.detail = fmt::format("GetExternalIPAddress: {}", upnp_error(r));
      return a;
    }
    if (ext_ip[0] == '\0' || std::string_view(ext_ip) == "0.0.0.0") {
      a.detail = "the gateway has no outside address";
      return a;
    }
    auto in_port = std::to_string(port);
    std::uint16_t ext = want_external;
    auto lease = asked.upnp_lease;
    for (int conflicts = 0;;) {
      auto ext_port = std::to_string(ext);
      auto lease_text = std::to_string(lease.count());
      r = UPNP_AddPortMapping(control.c_str(), service.c_str(), ext_port.c_str(), in_port.c_str(), lan_addr.c_str(),
                              kUpnpDescription, "TCP", nullptr, lease_text.c_str());
      if (r == kUpnpOnlyPermanentLeases && lease.count() != 0) {
        lease = std::chrono::seconds(0);  // this router keeps mappings until removed or it restarts
        continue;
      }
      if (r == kUpnpConflictInMappingEntry && ++conflicts <= kUpnpConflictRetries && !stopping) {
        // Another host holds that outside port: take one of the dynamic range instead.
        ext = static_cast<std::uint16_t>(49152 + (port * 7919u + conflicts * 104729u) % 16384u);
        continue;
      }
      break;
    }
    if (r != UPNPCOMMAND_SUCCESS) {
      a.detail = fmt::format("AddPortMapping {}: {}", ext, upnp_error(r));
      return a;
    }
    a.outcome = MappingAttempt::Outcome::mapped;
    a.external_ip = ext_ip;
    a.external_port = ext;
    a.lifetime = lease;
    held = Held{MappingMethod::upnp, ext, control, service, lan_addr};
    return a;
  }

  void round() {
    if (stopping) return;
    std::vector<MappingAttempt> attempts;
    // Renew where we hold the mapping, asking for the same outside port; else NAT-PMP first.
    MappingMethod first = held ? held->method : MappingMethod::natpmp;
    std::uint16_t want = held ? held->external_port : port;
    for (MappingMethod m : {first, first == MappingMethod::natpmp ? MappingMethod::upnp : MappingMethod::natpmp}) {
      if (stopping) break;
      auto a = m == MappingMethod::natpmp ? try_natpmp(want) : try_upnp(want);
      attempts.push_back(a);
      if (a.outcome == MappingAttempt::Outcome::mapped) {
        if (m == MappingMethod::natpmp) held = Held{m, a.external_port, {}, {}, {}};
        break;
      }
    }
    if (attempts.empty()) return;
    auto status = summarize_attempts(attempts);
    if (!status.mapped()) held.reset();  // what the gateway had is gone or was never there
    holds = held.has_value();
    failures = status.mapped() ? 0 : failures + 1;
    timer.expires_after(status.mapped() ? renew_after(status.lifetime) : retry_after(failures));
    timer.async_wait([this](std::error_code ec) {
      if (!ec) round();
    });
    std::lock_guard lock(post_mutex);
    if (!stopping) asio::post(session_io, [cb = on_status, status] { cb(status); });
  }

  void remove() {
    if (!held) return;
    if (held->method == MappingMethod::natpmp) {
      // RFC 6886 §3.4: lifetime 0 and external port 0 delete our mapping of this private port.
      natpmp_t n{};
      if (initnatpmp(&n, 0, 0) >= 0) {
        natpmpresp_t resp{};
        if (sendnewportmappingrequest(&n, NATPMP_PROTOCOL_TCP, port, 0, 0) >= 0)
          natpmp_wait(n, resp, Clock::now() + kNatPmpRemoveWait);
        closenatpmp(&n);
      }
    } else {
      auto ext = std::to_string(held->external_port);
      UPNP_DeletePortMapping(held->control_url.c_str(), held->service_type.c_str(), ext.c_str(), "TCP", nullptr);
    }
    held.reset();
    holds = false;
  }
};

PortMapper::PortMapper(asio::io_context& session_io, std::uint16_t listen_port, OnStatus on_status, Lifetimes asked)
    : worker_(std::make_shared<Worker>(session_io, listen_port, std::move(on_status), asked)) {}

PortMapper::~PortMapper() { finish(); }

void PortMapper::start() {
  if (thread_.joinable()) return;
  asio::post(worker_->own, [w = worker_.get()] { w->round(); });
  thread_ = std::thread([w = worker_] {
    w->own.run();
    w->ended = true;
  });
}

void PortMapper::request_stop() {
  {
    std::lock_guard lock(worker_->post_mutex);  // after this, the worker posts nothing
    if (worker_->stopping.exchange(true)) return;
  }
  asio::post(worker_->own, [w = worker_.get()] {
    w->timer.cancel();
    w->remove();
    w->guard.reset();
    w->own.stop();
  });
}

void PortMapper::finish() {
  request_stop();
  if (!thread_.joinable()) return;
  // Holding nothing while a UPnP search runs: nothing to wait for (the search would not
  // notice the stop before it ends).
  auto wait = worker_->holds ? kFinishWaitHolding : worker_->searching ? Clock::duration::zero() : kFinishWaitIdle;
  auto deadline = Clock::now() + wait;
  while (!worker_->ended && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (worker_->ended) thread_.join();
  else thread_.detach();  // it owns a share of the worker; ends after its library call returns
}

}  // namespace p2p
