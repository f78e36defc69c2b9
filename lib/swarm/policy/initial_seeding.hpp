// Initial seeding (BitTorrent's "super-seeding"): how a seeder whose peers lack the file
// gets one copy of it into the swarm instead of several. Pure bookkeeping; the torrent sends
// the `have`s it returns.
//
// Instead of its full bitfield the seeder tells each peer about a few pieces at a time (an
// empty bitfield, then `have`s), each one that no connected peer has and that is in no other
// peer's window. A piece stays in the window of the peer it was shown to until it has spread:
// another peer has it (it was passed on), or every other peer has it (nobody left to pass it
// to). A peer that passes pieces on quickly frees its window quickly and so is shown new
// pieces quickly; a slow uploader is shown fewer. So the seeder sends each piece about once,
// in proportion to how fast each peer forwards. While some peer is near, only a few shown
// pieces are on their way at once (in_flight_limit), so each reaches its holder, and is
// passed on, sooner. A piece whose holder left before passing it on is shown again. Once
// every piece is held by some peer (copy_out), the torrent ends initial seeding and offers
// every piece to every peer: the swarm has its copy, and the seeder's link is spare capacity.
//
// A peer that leaves what it was shown unrequested (idle, stuck, or hoarding windows so
// that nobody else is shown those pieces) has them taken back (take_back) and is shown
// nothing more until it asks for something (requested): forty connections that sent an
// empty bitfield and then nothing starved a real downloader of every piece before. The
// pause also ends once the peer holds every piece it was told about: it then has nothing
// it could ask us for. A downloader fetching from two initial seeders at once got the
// pieces one of them showed from the other, was paused by both (it had asked neither for
// them), and then had nothing to ask either for: 72 of 97 pieces, and no more for minutes
// (e2e.tracker_download on a loaded machine). A hoarder that never fetches still lacks
// what it was shown, and stays paused.
//
// Peers are keyed by peer key: several connections of one peer share one window.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/bitfield.hpp"

namespace p2p {

class InitialSeeding {
 public:
  using Key = std::string;
  struct Reveal {
    Key key;
    std::uint32_t piece = 0;
    bool operator==(const Reveal&) const = default;
  };
  // Bytes of unspread pieces shared out among the peers that still lack pieces: what the
  // seeder uploads in kBudgetSeconds at its current rate, at least kDefaultBudget. Large
  // enough to keep the seeder's link busy while pieces spread, small enough that what is
  // still unspread when the seeder has shown every piece (about this much, to be passed on
  // to every other peer) is a short tail. Measured: docs/DESIGN.md.
  static constexpr std::uint64_t kDefaultBudget = 2u << 20;
  static constexpr double kBudgetSeconds = 0.5;
  // Plus this many round trips of the rate: a piece shown spreads two round trips later at
  // best (our `have`, their request, the block, their `have` back), and it waits behind half
  // the window at the peer. With 4 round trips the window still grows on a 200 ms link
  // (each sample: (0.5 + 4 rtt) / (0.25 + 4 rtt) = 1.24x); with none it shrank there
  // (budget / time-to-spread below the rate: 0.2 of the link was used).
  static constexpr double kRoundTripsInBudget = 4;
  // Every peer may hold at least this many unspread pieces. One: N = 32 on capped links,
  // two each put 64 pieces on the seeder's link at once, each arriving at its first holder
  // a second after it was asked for, which is a second before anyone could pass it on
  // (medians over interleaved runs, docs/DESIGN.md).
  static constexpr std::uint32_t kMinWindowPieces = 1;
  // While some peer is near (a round trip below long_link's 10 ms), the pieces shown and not
  // yet arrived at their holder (on our link, or asked for) are at most this many, or our
  // upload rate x 2 of that round trip if that is more (a slot frees a round trip and a half
  // before its next piece can start): our link is shared by fewer pieces at once, so each
  // reaches a holder sooner and is passed on sooner; a slot that frees goes to the peer with
  // the fewest unspread pieces. (A piece on its way can be passed on by nobody: 32 peers with
  // a piece each on a 4 MiB/s link is half a second of it.)
  static constexpr std::uint32_t kMinInFlightPieces = 8;
  // Slow start: the rate-based budget trails the rate it is sized on by a tick (250 ms),
  // and on a long link each window's pieces take a round trip and more to spread, so it
  // grew from 2 MiB slowly: 1 GiB to a lone peer at 100 ms had 4-8 MiB in flight for its
  // first second. So every piece that spreads adds its size to the budget; and while only
  // one peer needs pieces, so does each piece shown as we start sending it to that peer
  // (serving). A piece shown is asked for a round trip later and spreads a round trip after
  // that, so counting spreads alone doubled the window every two round trips, behind the
  // requester's own window (RequestPipeline: doubling every one); counting both, each round
  // trip's new pieces are the last one's sends plus the spreads of the one before
  // (n' = n + 2 n_before), which doubles every round trip. Only for a lone peer: it has
  // nobody to pass pieces on to, and its window only paces its requests; with several, a
  // larger early window splits our link among more pieces at once, so each reaches its
  // first holder, and is passed on, later (N = 8 with 20-200 ms round trips: 9.40 -> 9.73 s
  // counting sends to every peer, medians of 4). Sends, not requests: a request costs a
  // peer nothing, and on a LAN counting requests showed 32 peers most of the file before
  // the first rate was measured (1.02-1.08 seeder copies instead of 1.00). Only on a long
  // link (long_link.hpp): on a LAN a spread takes a millisecond or two, and the first of
  // 32 peers, alone while the others start, would be shown pieces it must pass to all.
  // Measured, 1 GiB to a lone peer through a 50 ms-each-way relay on loopback: 2.97 ->
  // 2.66 s (medians of 5, interleaved). The slow start counts from the first piece, before
  // any rate is measured, and then while the rate grows by kSlowStartGrowth or more a tick;
  // the first tick it does not, the rate-based budget alone takes over. It starts again
  // when the upload has fallen below kIdleRate of the best (a new download after an idle
  // spell). On a capped swarm it is over within a tick or two: the rate stops growing at
  // the cap. Once a rate is measured, what it adds is at most kSlowStartMost x the
  // rate-based budget (a tick's lag is one doubling or two),
  // so a swarm whose rate keeps growing for many ticks (peers joining one by one) is not
  // shown much more than the rate rule would show it: the tail stays short.
  static constexpr double kSlowStartGrowth = 1.25;
  static constexpr double kIdleRate = 0.01;
  static constexpr double kSlowStartMost = 2;
  // A peer that has asked us for nothing this long while a piece shown to it is still
  // unrequested has its window taken back (take_back; the torrent keeps the clock). An honest
  // peer asks for what it is shown within a round trip or two; one whose own piece buffers
  // stay full this long is paused too, and is shown pieces again at its next request.
  // 2 s, not 5: with the in-flight cap, 8 hoarders hold every slot until this runs out, and
  // 40 of them (e2e.window_hoarders) kept a real downloader waiting 29 s instead of 15 s.
  static constexpr auto kUnrequestedTimeout = std::chrono::seconds(2);

  InitialSeeding(std::uint32_t piece_count, std::uint32_t piece_size, std::uint64_t budget = kDefaultBudget);

  // A connection of peer k was accepted (connections are counted; the peer exists until the last closes).
  void connected(const Key& k);
  // Each returns the pieces to announce now, with `have`, to every connection of the peer named.
  std::vector<Reveal> disconnected(const Key& k);
  std::vector<Reveal> bitfield(const Key& k, const Bitfield& has);
  std::vector<Reveal> have(const Key& k, std::uint32_t piece);
  // k left pieces it was shown unrequested too long: those it does not hold go back to be
  // shown to others (returned), and k is shown nothing until requested(k), or until it
  // holds every piece it was told about (have, bitfield).
  std::vector<Reveal> take_back(const Key& k);
  // k asked us for a piece: after a take_back, it is shown pieces again.
  std::vector<Reveal> requested(const Key& k);
  // We start sending k a block of `piece` (our link took the one before); `round_trip`:
  // k's (seconds). In slow start, while k is the only peer that needs pieces and its round
  // trip is long, the first for a piece of k's window adds the piece to the budget.
  std::vector<Reveal> serving(const Key& k, std::uint32_t piece, double round_trip);
  bool paused(const Key& k) const;
  // Every piece is held by some connected peer: one copy is out, and the swarm no longer
  // needs the seeder to ration what it shows (the torrent then ends initial seeding).
  bool copy_out() const { return held_pieces_ == piece_count_; }

  // What k has been told we have: the bitfield for a further connection of k.
  Bitfield told(const Key& k) const;
  // Pieces shown to some peer at least once, and how often each was shown.
  std::uint32_t shown_pieces() const { return shown_pieces_; }
  std::uint32_t times_shown(std::uint32_t piece) const { return shown_[piece]; }
  std::size_t window_of(const Key& k) const;  // unspread pieces k holds or was shown
  // The seeder's recent upload rate (bytes/s), once a tick: the budget grows with it, so
  // that one fast peer (a loopback copy) is not held to 2 MiB in flight; it also ends and
  // restarts the slow start.
  void set_upload_rate(double bytes_per_second);
  bool slow_start() const { return slow_start_; }
  // The round trip to the peers (seconds; their upload-weighted mean): the budget holds it.
  void set_round_trip(double seconds) { round_trip_ = seconds; }
  // The shortest of the peers' round trips (seconds; each peer's smallest measured, 0: none
  // yet): in_flight_limit caps only a swarm with a short one. Not the kernel's tcpi_min_rtt:
  // a relay's delay (the wan bench's, a proxy's) is invisible to it.
  void set_shortest_round_trip(double seconds) { shortest_round_trip_ = seconds; }
  // One peer's round trip as soon as it is measured: the shortest is lowered at once.
  void note_round_trip(double seconds) {
    if (seconds > 0 && (shortest_round_trip_ <= 0 || seconds < shortest_round_trip_)) shortest_round_trip_ = seconds;
  }
  std::uint32_t window_limit() const;          // per peer, at the current number of peers
  // Pieces shown and not yet held by the peer they were shown to, and the most there may be
  // (SIZE_MAX: no cap).
  std::size_t in_flight() const;
  std::size_t in_flight_limit() const;

 private:
  struct PeerState {
    int connections = 0;
    bool known = false;   // its bitfield arrived
    bool paused = false;  // its window was taken back: shown nothing until it requests
    Bitfield has, told;
    // Pieces in told and not in has, kept up to date as both change: a paused peer's
    // `have`s must not each cost a scan of the file's pieces.
    std::uint32_t told_lacking = 0;
    std::vector<std::uint32_t> window;  // shown to it, not yet spread
  };
  bool spread(std::uint32_t piece, const PeerState& holder) const;
  void end_pause_if_nothing_to_ask(PeerState& p);
  std::vector<Reveal> top_up(const std::set<Key>& keys);
  void drop_spread(PeerState& p);
  void top_up_one(const Key& k, PeerState& p, std::size_t& room, std::vector<Reveal>& out);
  void count_holder(std::uint32_t piece, int delta);
  bool needy(const PeerState& p) const { return p.known && !p.paused && !p.has.all(); }

  std::uint32_t piece_count_, piece_size_;
  std::uint64_t budget_;
  double upload_rate_ = 0;
  double round_trip_ = 0;
  double shortest_round_trip_ = 0;
  bool slow_start_ = true;
  double best_rate_ = 0;               // the most measured in this slow start (0: none yet)
  std::uint64_t slow_start_bytes_ = 0;  // spread in this slow start, added to the budget
  std::map<Key, PeerState> peers_;
  std::vector<std::uint32_t> holders_;  // known peers whose bitfield has the piece
  std::vector<Key> owner_;              // whose window holds the piece ("" = none)
  std::vector<bool> served_;            // sent to its owner (a block of it) since it was shown
  std::vector<std::uint32_t> shown_;
  std::uint32_t shown_pieces_ = 0;
  std::uint32_t needy_peers_ = 0;
  std::uint32_t held_pieces_ = 0;       // pieces with holders_ > 0
  std::set<std::uint32_t> unplaced_;    // no known peer has it and it is in no window: to show next
};

}  // namespace p2p
