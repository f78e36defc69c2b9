// LAN discovery pacing: token buckets for what we hear and answer, rounds for what we say.
#include "swarm/policy/lan_pacing.hpp"

#include <algorithm>

namespace p2p {

using namespace lan_limits;

bool PacingBucket::has(Clock::time_point now, double n) {
  if (now > at_) {
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - at_).count() * rate_);
    at_ = now;
  }
  return tokens_ >= n;
}

bool PacingBucket::full(Clock::time_point now) { return has(now, burst_); }

// ---- intake -------------------------------------------------------------------------------

LanIntake::LanIntake(Clock::time_point now) : total_(kTotalBurst, kTotalRate, now) {}

bool LanIntake::admit(const std::string& source_ip, Clock::time_point now) {
  auto it = sources_.find(source_ip);
  if (it == sources_.end()) {
    if (sources_.size() >= kMaxTrackedSources && now - last_purge_ >= std::chrono::seconds(1)) {
      // Forget sources quiet long enough that their bucket refilled: they lose nothing.
      // At most once a second, so a flood of new forged sources costs no scan per packet.
      last_purge_ = now;
      for (auto i = sources_.begin(); i != sources_.end();) i = i->second.full(now) ? sources_.erase(i) : std::next(i);
    }
    if (sources_.size() >= kMaxTrackedSources) {
      ++counters_.dropped_per_source;
      return false;
    }
    it = sources_.emplace(source_ip, PacingBucket(kPerSourceBurst, kPerSourceRate, now)).first;
  }
  if (!it->second.has(now)) {
    ++counters_.dropped_per_source;
    return false;
  }
  if (!total_.has(now)) {
    ++counters_.dropped_total;
    return false;
  }
  it->second.take();
  total_.take();
  ++counters_.admitted;
  return true;
}

// ---- claimed ports ----------------------------------------------------------------------------

bool LanClaims::claim(const std::string& source_ip, std::uint16_t port) {
  auto it = ports_.find(source_ip);
  if (it == ports_.end()) {
    // Full: forget one source (the lowest address). A flood of forged sources can so reset
    // a victim's entry, but only at the intake's total rate, and PeerDirectory still caps
    // what one advertiser may add to a torrent (kMaxAddsPerAdvertiser).
    if (ports_.size() >= kMaxTrackedSources) ports_.erase(ports_.begin());
    it = ports_.emplace(source_ip, std::set<std::uint16_t>{}).first;
  }
  if (it->second.contains(port)) return true;
  if (it->second.size() >= kMaxPortsPerSource) {
    ++refused_;
    return false;
  }
  it->second.insert(port);
  return true;
}

// ---- answers ------------------------------------------------------------------------------

LanAnswers::LanAnswers(Clock::time_point now)
    : total_(static_cast<double>(kMaxAnsweredSwarmsPerSecond), static_cast<double>(kMaxAnsweredSwarmsPerSecond), now) {}

std::vector<Digest> LanAnswers::take(const std::vector<Digest>& asked, Clock::time_point now) {
  std::vector<Digest> out;
  for (const auto& id : asked) {
    auto it = last_.find(id);
    if ((it != last_.end() && now - it->second < kAnswerInterval) || !total_.has(now)) {
      ++suppressed_;
      continue;
    }
    total_.take();
    last_[id] = now;
    out.push_back(id);
  }
  // The caller asks only about swarms we are in, so this stays small; old entries go anyway.
  if (last_.size() > 4 * kMaxAnsweredSwarmsPerSecond)
    std::erase_if(last_, [now](const auto& e) { return now - e.second >= kAnswerInterval; });
  return out;
}

// ---- announce rounds ------------------------------------------------------------------------

void LanAnnouncePlan::start(Clock::time_point now) {
  started_ = true;
  next_full_ = now;
  repeat_ = now + kRepeatAfterStart;
}

void LanAnnouncePlan::added(const Digest& id, Clock::time_point now) {
  if (!started_) return;  // the start round will carry it
  added_.insert(id);
  quick_ = std::min(quick_, std::max(now + kAddedDelay, last_round_ + kMinRoundGap));
}

LanAnnouncePlan::Clock::time_point LanAnnouncePlan::next_due() const { return std::min({next_full_, repeat_, quick_}); }

std::vector<Digest> LanAnnouncePlan::take_due(Clock::time_point now, const std::vector<Digest>& ours) {
  std::vector<Digest> out;
  if (next_full_ <= now || repeat_ <= now) {
    if (repeat_ <= now) repeat_ = Clock::time_point::max();
    if (next_full_ <= now) next_full_ = now + kAnnounceInterval;
    if (ours.size() <= kMaxSwarmsPerRound) {
      out = ours;
    } else {  // rotate: every swarm is announced within ceil(n / 128) rounds
      for (std::size_t i = 0; i < kMaxSwarmsPerRound; ++i) out.push_back(ours[(cursor_ + i) % ours.size()]);
      cursor_ = (cursor_ + kMaxSwarmsPerRound) % ours.size();
    }
    for (const auto& id : out) added_.erase(id);
  } else if (quick_ <= now) {
    for (auto it = added_.begin(); it != added_.end() && out.size() < kMaxSwarmsPerRound;) {
      if (std::find(ours.begin(), ours.end(), *it) != ours.end()) out.push_back(*it);
      it = added_.erase(it);  // sent now, or no longer ours
    }
  } else {
    return out;
  }
  last_round_ = now;
  quick_ = added_.empty() ? Clock::time_point::max() : now + kMinRoundGap;
  return out;
}

}  // namespace p2p
