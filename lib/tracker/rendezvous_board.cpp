// RendezvousBoard: open polls, queued notes, rate limits, reachability (rendezvous_board.hpp).
#include "tracker/rendezvous_board.hpp"

#include <algorithm>

namespace p2p::tracker {

std::string RendezvousBoard::key(const std::string& ip, std::uint16_t port) { return ip + "|" + std::to_string(port); }

RendezvousBoard::Member& RendezvousBoard::member(const std::string& ip, std::uint16_t port, Clock::time_point now) {
  if (members_.size() >= kMaxMembers && !members_.count(key(ip, port))) {
    // Forget the member untouched longest that has no open poll.
    auto oldest = members_.end();
    for (auto it = members_.begin(); it != members_.end(); ++it)
      if (!it->second.poll && (oldest == members_.end() || it->second.touched < oldest->second.touched)) oldest = it;
    if (oldest != members_.end()) members_.erase(oldest);
  }
  Member& m = members_[key(ip, port)];
  m.ip = ip;
  m.touched = now;
  return m;
}

void RendezvousBoard::answer(Member& m, std::vector<RendezvousNote> notes) {
  if (!m.poll) return;
  Answer reply = std::move(m.poll->answer);
  m.poll.reset();
  --open_polls_;
  if (auto it = polls_per_ip_.find(m.ip); it != polls_per_ip_.end() && --it->second == 0) polls_per_ip_.erase(it);
  reply(std::move(notes));
}

RendezvousBoard::WaitResult RendezvousBoard::wait(const std::string& ip, std::uint16_t port, Answer reply,
                                                  Clock::time_point now) {
  auto found = members_.find(key(ip, port));
  if (found != members_.end() && found->second.poll) answer(found->second, {});  // a new poll replaces the old
  auto per_ip = polls_per_ip_.find(ip);
  if (open_polls_ >= kMaxPolls || (per_ip != polls_per_ip_.end() && per_ip->second >= kMaxPollsPerIp))
    return WaitResult::refused;
  Member& m = member(ip, port, now);
  m.last_poll = now;
  std::erase_if(m.queued, [&](const auto& q) { return now - q.second > kNoteTtl; });
  if (!m.queued.empty()) {
    std::vector<RendezvousNote> notes;
    for (auto& q : m.queued) notes.push_back(std::move(q.first));
    m.queued.clear();
    reply(std::move(notes));
    return WaitResult::answered_now;
  }
  std::uint64_t id = next_waiter_++;
  m.poll = Waiter{id, std::move(reply), now};
  ++open_polls_;
  ++polls_per_ip_[ip];
  return WaitResult::waiting;
}

bool RendezvousBoard::polling(const std::string& ip, std::uint16_t port, Clock::time_point now) const {
  auto it = members_.find(key(ip, port));
  if (it == members_.end()) return false;
  if (it->second.poll) return true;
  if (it->second.reachable == true) return false;  // dialled directly: it stopped polling for good
  return (it->second.last_poll != Clock::time_point{} && now - it->second.last_poll <= kPollGrace);
}

bool RendezvousBoard::post(const std::string& ip, std::uint16_t port, RendezvousNote note, Clock::time_point now) {
  if (!polling(ip, port, now)) return false;
  Member& m = member(ip, port, now);
  // Direct and relay notes are limited separately: a member asks for a relay a few
  // seconds after the direct dials a rendezvous note started have failed.
  std::string from = (note.relay_ticket.empty() ? "d:" : "r:") + key(note.ip, note.port);
  auto told = m.told.find(from);
  if (told != m.told.end() && now - told->second < kPairInterval) return false;
  m.told[from] = now;
  ++notes_posted_;
  if (m.poll) {
    answer(m, {std::move(note)});
    return true;
  }
  if (m.queued.size() >= kMaxQueued) m.queued.erase(m.queued.begin());
  m.queued.emplace_back(std::move(note), now);
  return true;
}

void RendezvousBoard::expire(Clock::time_point now) {
  for (auto it = members_.begin(); it != members_.end();) {
    Member& m = it->second;
    if (m.poll && now - m.poll->since >= kHold) answer(m, {});
    std::erase_if(m.told, [&](const auto& t) { return now - t.second >= kPairInterval; });
    std::erase_if(m.queued, [&](const auto& q) { return now - q.second > kNoteTtl; });
    bool stale = !m.poll && m.queued.empty() && now - m.touched > kProbeInterval;
    it = stale ? members_.erase(it) : std::next(it);
  }
}

void RendezvousBoard::wake(const std::string& ip, std::uint16_t port) {
  auto it = members_.find(key(ip, port));
  if (it != members_.end()) answer(it->second, {});
}

void RendezvousBoard::close_all() {
  for (auto& [k, m] : members_) answer(m, {});
}

void RendezvousBoard::set_reachable(const std::string& ip, std::uint16_t port, bool reachable, Clock::time_point now) {
  member(ip, port, now).reachable = reachable;
}

std::optional<bool> RendezvousBoard::reachable(const std::string& ip, std::uint16_t port) const {
  auto it = members_.find(key(ip, port));
  return it == members_.end() ? std::nullopt : it->second.reachable;
}

bool RendezvousBoard::probe_due(const std::string& ip, std::uint16_t port, Clock::time_point now) const {
  auto it = members_.find(key(ip, port));
  return it == members_.end() || it->second.probed == Clock::time_point{} || now - it->second.probed >= kProbeInterval;
}

void RendezvousBoard::probe_started(const std::string& ip, std::uint16_t port, Clock::time_point now) {
  member(ip, port, now).probed = now;
}

}  // namespace p2p::tracker
