// api_share_handler: the meta (found or created) and the verification run on the
// pool; errors come back as the HTTP answer, never as a session failure.
#include "app/api_share.hpp"

#include <fmt/core.h>

#include <memory>

#include "app/publish_and_keep_tokens.hpp"
#include "app/tracker_list.hpp"
#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "storage/meta_creation.hpp"

namespace p2p {

namespace fs = std::filesystem;

web::AddHandler api_share_handler(Session& session, SourceOpener& opener, ApiShareOptions options) {
  return [&session, &opener, o = std::move(options)](const web::AddRequest& request,
                                                     std::function<void(web::ActionResult)> done) {
    struct Job {
      std::shared_ptr<const Meta> meta;
      std::optional<PieceStore> store;
      fs::path source;
      std::string error;
      std::vector<std::string> notices;  // from publishing
      int status = 200;
      bool rehashed = false;
    };
    auto job = std::make_shared<Job>();
    session.in_background(
        [&opener, o, request, job] {
          try {
            fs::path meta_path;
            if (!request.meta.empty()) {
              meta_path = request.meta;
              job->meta = std::make_shared<const Meta>(load_meta(meta_path));
              // Its file: beside the meta if it is there, else WORKDIR/<name>.
              fs::path beside = meta_path.parent_path() / job->meta->name;
              std::error_code ec;
              job->source = fs::exists(beside, ec) ? beside : o.layout.workdir / job->meta->name;
            } else {
              job->source = request.file;
              std::error_code ec;
              if (!fs::is_regular_file(job->source, ec))
                throw Error(ExitCode::input_file, fmt::format("{} is not a regular file", job->source.string()));
              fs::create_directories(o.layout.meta_dir(), ec);
              meta_path = o.layout.meta_dir() / (job->source.filename().string() + ".p2pmeta");
              job->meta = std::make_shared<const Meta>(create_meta(job->source, 0, o.trackers));
              write_file_atomically(meta_path, meta_to_json(*job->meta));
            }
            job->store.emplace(opener.open(*job->meta, job->source, job->rehashed));
            opener.save();
            if (o.publish)
              job->notices = publish_and_keep_tokens(*job->meta, meta_to_json(*job->meta), meta_path,
                                                     merge_trackers(job->meta->trackers, o.trackers));
          } catch (const Error& e) {
            job->error = e.what();
            job->status = e.code() == ExitCode::tracker ? 502 : e.code() == ExitCode::disk ? 500 : 400;
          } catch (const std::exception& e) {
            job->error = e.what();
            job->status = 500;
          }
        },
        [&session, o, job, done] {
          if (!job->error.empty()) return done({job->status, job->error, {}});
          if (session.has_torrent(job->meta->info_hash))
            return done({409, fmt::format("{} is already served here", job->meta->name), job->meta->info_hash_hex()});
          TorrentOptions to;
          to.trackers = merge_trackers(job->meta->trackers, o.trackers);
          to.keep_seeding = true;
          for (const auto& line : job->notices) session.report(job->meta->name, EventKind::notice, line);
          session.add_torrent(job->meta, std::move(*job->store), to);
          session.report(job->meta->name, EventKind::torrent_added,
                         fmt::format("sharing {} ({}; added over the HTTP API; {})", job->source.string(),
                                     job->meta->info_hash_hex().substr(0, 16),
                                     job->rehashed ? "verified" : "unchanged since verified, not re-hashed"));
          done({201, fmt::format("sharing {}", job->meta->name), job->meta->info_hash_hex()});
        });
  };
}

}  // namespace p2p
