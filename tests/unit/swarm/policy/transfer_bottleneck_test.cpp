// TransferBottleneck: each rule from measured numbers, and their order.
#include <catch2/catch.hpp>

#include "swarm/policy/transfer_bottleneck.hpp"

using namespace p2p;

namespace {
TransferMeasures downloading() {
  TransferMeasures m;
  m.peers = 3;
  m.peers_unchoking_us = 2;
  m.download_rate = 1e6;
  m.hash_threads = 2;
  m.avg_hash_seconds = 0.002;
  m.avg_write_seconds = 0.001;
  return m;
}
}  // namespace

TEST_CASE("downloading with unchoking peers and an idle pool: the peers' upload limits", "[transfer_bottleneck]") {
  CHECK(TransferBottleneck::classify(downloading()) == Bottleneck::peers_upload);
}

TEST_CASE("no peer: no_peers, whatever else is measured", "[transfer_bottleneck]") {
  auto m = downloading();
  m.peers = 0;
  m.hash_queue_depth = 100;
  CHECK(TransferBottleneck::classify(m) == Bottleneck::no_peers);
}

TEST_CASE("a rate at 90 % of our cap is limited by the cap; below it is not", "[transfer_bottleneck]") {
  auto m = downloading();
  m.max_download_rate = 1'100'000;  // 1e6 is 91 % of it
  CHECK(TransferBottleneck::classify(m) == Bottleneck::download_cap);
  m.max_download_rate = 2'000'000;
  CHECK(TransferBottleneck::classify(m) == Bottleneck::peers_upload);
}

TEST_CASE("a deep hash queue: hashing if hashing is the slow half, disk writes if writing is", "[transfer_bottleneck]") {
  auto m = downloading();
  m.hash_queue_depth = 3;  // below 2 per thread (4): not yet
  CHECK(TransferBottleneck::classify(m) == Bottleneck::peers_upload);
  m.hash_queue_depth = 4;
  CHECK(TransferBottleneck::classify(m) == Bottleneck::hashing);
  m.avg_write_seconds = 0.050;
  CHECK(TransferBottleneck::classify(m) == Bottleneck::disk_writes);
}

TEST_CASE("connected but choked by everyone: peers_choking", "[transfer_bottleneck]") {
  auto m = downloading();
  m.peers_unchoking_us = 0;
  CHECK(TransferBottleneck::classify(m) == Bottleneck::peers_choking);
}

TEST_CASE("seeding: the upload cap, then demand", "[transfer_bottleneck]") {
  TransferMeasures m;
  m.complete = true;
  m.peers = 2;
  m.peers_interested = 1;
  m.upload_rate = 500'000;
  CHECK(TransferBottleneck::classify(m) == Bottleneck::peers_download);
  m.max_upload_rate = 500'000;
  CHECK(TransferBottleneck::classify(m) == Bottleneck::upload_cap);
  m.max_upload_rate = 0;
  m.peers_interested = 0;
  CHECK(TransferBottleneck::classify(m) == Bottleneck::no_demand);
}

TEST_CASE("every verdict has a name and a description", "[transfer_bottleneck]") {
  for (auto b : {Bottleneck::no_peers, Bottleneck::download_cap, Bottleneck::upload_cap, Bottleneck::disk_writes,
                 Bottleneck::hashing, Bottleneck::peers_choking, Bottleneck::peers_upload, Bottleneck::no_demand,
                 Bottleneck::peers_download}) {
    CHECK_FALSE(TransferBottleneck::name(b).empty());
    CHECK_FALSE(TransferBottleneck::describe(b).empty());
  }
}
