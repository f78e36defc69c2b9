// p2p-seed: verify a file against its meta and serve its pieces until stopped.
#include "app/app_main.hpp"
#include "cli_parse.hpp"
#include "swarm/policy/rate_limiter.hpp"
#include "app/seeder.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Serve a file's pieces to downloaders. Prints 'listening HOST:PORT' once ready."};
  p2p::SeedOptions o;
  std::string meta, source, workdir = "data", up_rate = "0";
  bool quiet = false, json = false;
  app.add_option("--meta", meta, "the file's .p2pmeta")->required();
  app.add_option("--source", source, "the complete file (default: WORKDIR/<name in meta>)");
  app.add_option("--port", o.port, "TCP port to listen on; 0 lets the OS choose")->required();
  app.add_option("--host", o.host, "address to listen on (default 0.0.0.0)");
  app.add_option("--workdir", workdir, "working folder (default: data)");
  app.add_option("--tracker", o.trackers, "HOST:PORT of a tracker to announce to (repeatable; adds to the meta's)");
  app.add_flag("--publish", o.publish, "publish the meta to the trackers before seeding");
  app.add_option("--max-upload-rate", up_rate, "upload limit in bytes/s, e.g. 500k, 20M (default: unlimited)");
  app.add_flag("-q,--quiet", quiet, "only errors");
  app.add_flag("--json", json, "one JSON event per line on stdout");
  P2P_PARSE(app, argc, argv);

  return p2p::guarded_main("p2p-seed", [&] {
    o.meta_path = meta;
    o.source = source;
    o.workdir = workdir;
    o.max_upload_rate = p2p::parse_rate(up_rate);
    p2p::ProgressReporter reporter(json ? p2p::OutputMode::json : quiet ? p2p::OutputMode::quiet : p2p::OutputMode::plain,
                                   "seed", /*seeding=*/true);
    auto outcome = p2p::seed(o, reporter);
    reporter.summary(outcome, source);
    return 0;  // stopped by a signal: a seeder's normal end
  });
}
