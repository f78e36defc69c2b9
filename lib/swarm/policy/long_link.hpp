// A long link: a round trip of kLongRoundTrip or more. A LAN's round trip is below 2 ms
// and loopback's far less; the internet's is 20-200 ms. On a long link every round trip a
// window waits to grow costs real time (at 100 ms, seven doublings are 0.7 s of a 3 s
// transfer), so a connection's request window (RequestPipeline) and the session's piece
// buffer budget (PieceBufferBudget) start larger there; on a LAN a doubling costs a
// millisecond or two and they start small.
#pragma once

namespace p2p {

inline constexpr double kLongRoundTrip = 0.01;  // seconds

inline bool long_round_trip(double seconds) { return seconds >= kLongRoundTrip; }

}  // namespace p2p
