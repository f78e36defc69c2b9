// Rendezvous: how the tracker tells a swarm member, now, that another member wants
// to connect to it. A member that cannot be dialled (behind a NAT) keeps one long
// poll open (GET /rendezvous); when another member announces and gets its address,
// the board answers that poll with a note "dial ip:port for swarm S", so both ends
// dial at once (TCP simultaneous open through two port-preserving NATs), or with a
// relay ticket when both sides must meet at the relay. Pure bookkeeping: time is
// passed in, answers go to callbacks; the API owns the HTTP side.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace p2p::tracker {

struct RendezvousNote {
  std::string swarm;  // 64 hex: the id the member announced (info hash or private-swarm id)
  std::string ip;     // who wants to connect: its address as the tracker saw it
  std::uint16_t port = 0;
  std::string relay_ticket;  // empty: dial directly; else meet at the relay with this ticket
};

class RendezvousBoard {
 public:
  using Clock = std::chrono::steady_clock;
  using Answer = std::function<void(std::vector<RendezvousNote> notes)>;

  // A poll is answered after this at the latest (empty), well inside clients' timeouts.
  static constexpr auto kHold = std::chrono::seconds(20);
  // A member counts as polling this long after its last poll ended (it polls again at once).
  static constexpr auto kPollGrace = std::chrono::seconds(10);
  // Notes wait this long for a member between two polls; at most kMaxQueued each.
  static constexpr auto kNoteTtl = std::chrono::seconds(15);
  static constexpr std::size_t kMaxQueued = 32;
  // The same pair (target, from) is told at most once per this: an announce every few
  // seconds must not turn into a stream of notes.
  static constexpr auto kPairInterval = std::chrono::seconds(10);
  // Open polls per IP (a NAT shares one among its hosts) and in all.
  static constexpr std::size_t kMaxPollsPerIp = 64;
  static constexpr std::size_t kMaxPolls = 20'000;
  // Members remembered (recent polls, queued notes, reachability), oldest dropped first.
  static constexpr std::size_t kMaxMembers = 100'000;

  enum class WaitResult { answered_now, waiting, refused };
  // A poll from the member announced at ip:port. Queued notes answer it at once;
  // otherwise it waits (id in *waiter) until a note, kHold, or close_all().
  WaitResult wait(const std::string& ip, std::uint16_t port, Answer answer, Clock::time_point now);
  // Whether the member at ip:port polls (a poll open or ended within kPollGrace).
  bool polling(const std::string& ip, std::uint16_t port, Clock::time_point now) const;
  // Tells the member at ip:port (if it polls; false otherwise, or when the pair was told
  // the same kind of note (direct or relay) within kPairInterval).
  bool post(const std::string& ip, std::uint16_t port, RendezvousNote note, Clock::time_point now);
  // Answers polls held for kHold and forgets stale members. Call every second or so.
  void expire(Clock::time_point now);
  // Answers the member's open poll now, with no notes (its reachability became known).
  void wake(const std::string& ip, std::uint16_t port);
  // Answers every open poll (empty): the server is stopping and waits for every answer.
  void close_all();

  // What a connect-back probe found: whether the member at ip:port accepts connections.
  void set_reachable(const std::string& ip, std::uint16_t port, bool reachable, Clock::time_point now);
  std::optional<bool> reachable(const std::string& ip, std::uint16_t port) const;
  // Whether that member should be probed now (never, or not within kProbeInterval).
  bool probe_due(const std::string& ip, std::uint16_t port, Clock::time_point now) const;
  void probe_started(const std::string& ip, std::uint16_t port, Clock::time_point now);
  static constexpr auto kProbeInterval = std::chrono::minutes(10);

  std::size_t open_polls() const { return open_polls_; }
  std::uint64_t notes_posted() const { return notes_posted_; }

 private:
  struct Waiter {
    std::uint64_t id = 0;
    Answer answer;
    Clock::time_point since;
  };
  struct Member {
    std::string ip;
    std::optional<Waiter> poll;
    Clock::time_point last_poll{};
    std::vector<std::pair<RendezvousNote, Clock::time_point>> queued;
    std::map<std::string, Clock::time_point> told;  // "ip|port" of whom we told it about -> when
    std::optional<bool> reachable;
    Clock::time_point probed{};
    Clock::time_point touched{};
  };
  static std::string key(const std::string& ip, std::uint16_t port);
  Member& member(const std::string& ip, std::uint16_t port, Clock::time_point now);
  void answer(Member& m, std::vector<RendezvousNote> notes);

  std::map<std::string, Member> members_;
  std::map<std::string, std::size_t> polls_per_ip_;
  std::size_t open_polls_ = 0;
  std::uint64_t next_waiter_ = 1, notes_posted_ = 0;
};

}  // namespace p2p::tracker
