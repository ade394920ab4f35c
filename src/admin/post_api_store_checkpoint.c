/* POST /api/store/checkpoint: writes every changed data file now instead of waiting for the
 * store's own trigger (before a backup, or to trim a large journal). It answers 202 at once:
 * the checkpoint runs on the writer thread; /api/status shows when it has finished. */
#include "admin/admin.h"
#include "core/app.h"
#include "core/log.h"
#include "store/store.h"

enum http_result admin_post_api_store_checkpoint(struct http_request *req,
                                                 struct http_reply *rep) {
  struct store_stats before;
  store_stats(astra.store, &before);
  store_checkpoint(astra.store);
  http_log(req, LOG_INFO, "operator asked for a checkpoint (%u dirty file(s))",
           before.dirty_files);
  http_reply_json(rep, 202,
                  json_pack("{s:i, s:I, s:b}", "dirtyFiles", before.dirty_files,
                            "checkpointsDone", (json_int_t)before.checkpoints, "running",
                            before.checkpoint_running));
  return HTTP_DONE;
}
