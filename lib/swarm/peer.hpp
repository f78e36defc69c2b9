// One peer of a torrent: the protocol state of one connection, owned by the
// torrent (the connection itself is transport only).
//
// States: connecting (outgoing, before the socket) is the dialler's; a Peer
// exists from the accepted handshake until the connection closes. Requests we
// sent are in `outstanding` until their block arrives or is dropped; at most one
// block at a time is being read into a piece buffer (`receiving`).
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bitfield.hpp"
#include "format/wire.hpp"
#include "swarm/peer_connection.hpp"
#include "swarm/policy/peer_exchange.hpp"
#include "swarm/policy/piece_picker.hpp"
#include "swarm/policy/request_pipeline.hpp"

namespace p2p {

struct Peer {
  std::shared_ptr<PeerConnection> conn;
  // Who the peer is across connections (reputation, bans, choking): the address we
  // dialled, or ip + the listen port of its handshake, or its bare IP if it does not listen.
  std::string key;
  // Who is scored and banned (reputation): the address we dialled for outgoing
  // connections; for incoming ones IP + peer id, so that another process on the
  // same IP claiming an honest peer's listen port cannot get that peer banned.
  std::string reputation_key;
  // Where it accepts connections (what we dialled, or what it claimed), for gossip.
  std::optional<wire::PeerAddress> listen_address;
  Bitfield has;
  // Incoming, from outside our interfaces' subnets while a port mapping was active:
  // it reached us through the gateway's mapping (PeerOrigin::mapped).
  bool mapped_in = false;
  bool am_choking = true, peer_choking = true;
  bool am_interested = false, peer_interested = false;
  std::vector<BlockRef> outstanding;  // our requests to them, oldest first
  std::optional<BlockRef> receiving;  // the block whose payload is being read into a piece buffer
  RequestPipeline pipeline;           // how many requests to keep outstanding, by its recent rate
  // Initial seeding: pieces revealed to it by `have` and not yet requested, with when; its
  // first request for one measures a round trip (at most a window of pieces).
  std::map<std::uint32_t, PeerConnection::Clock::time_point> revealed;
  PeerConnection::Clock::time_point last_request{};  // its last request to us ({}: none yet)
  PeerExchange pex;
  // For the snapshot (session_snapshot.hpp): payload counters at the last progress
  // report and the rates since, smoothed.
  std::uint64_t rate_mark_received = 0, rate_mark_sent = 0;
  double download_rate = 0, upload_rate = 0;

  bool dialled() const { return conn->outgoing(); }
};

}  // namespace p2p
