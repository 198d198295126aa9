#pragma once
// RequestTickets: SessionController's one tracker of the requests it sends the SessionWorker.
// Every request takes a ticket of its kind and its result names that ticket; a result whose
// ticket is no longer the newest of its lane is stale and dropped. Kinds that replace each other
// share a lane: run, regenerate, compare and opening a recording are all the session's one piece
// of work, so a new one stops the older at its next check.
//
// The work, layout, similarity and overview lanes are the worker's own (SessionWorker::takeTicket:
// its atomics stop running work directly, as a queued call would wait behind it). The layer-ratio
// lanes live here; their requests carry the lane's flags so the worker can skip a superseded
// curve and end a cancelled batch. GUI thread only, apart from those shared flags.

#include <QtGlobal>
#include <atomic>
#include <memory>

namespace kvs::ui {

class SessionWorker;

enum class Request {
  kRun,
  kRegenerate,
  kCompare,
  kOpenRecording,
  kLoad,
  kLayout,
  kSimilarity,
  kOverview,
  kLayerRatios,  // the kept prompt's curve, asked for on every parameter change
  kLayerBatch,   // a forward pass per prompt of a file
};

class RequestTickets {
 public:
  explicit RequestTickets(SessionWorker* worker);

  // A new ticket for kind: the lane's earlier requests become stale (a running worker request
  // stops at its next check, a batch is cancelled).
  quint64 take(Request kind);
  bool isCurrent(Request kind, quint64 ticket) const;
  // Read on the worker's thread before a queued request starts: a slider drag asks for many
  // curves, and only the newest is worth computing.
  std::shared_ptr<const std::atomic<quint64>> newestOf(Request kind) const;
  // The flag the lane's newest request polls; cancel() sets it.
  std::shared_ptr<std::atomic<bool>> cancelFlag(Request kind) const;
  // Ends the lane's running request; its result still arrives, marked stopped. For the work lane
  // this is the worker's Stop, which ends everything it runs.
  void cancel(Request kind);

 private:
  enum Lane { kWorkLane, kLayoutLane, kSimilarityLane, kOverviewLane, kRatiosLane, kBatchLane };
  static constexpr int kLanes = kBatchLane + 1;
  static Lane laneOf(Request kind);

  SessionWorker* worker_;
  // Shared with queued requests; a lane's cancel flag is replaced by each take, so a cancelled
  // request never stops its successor.
  std::shared_ptr<std::atomic<quint64>> newest_[kLanes];
  std::shared_ptr<std::atomic<bool>> cancel_[kLanes];
};

}  // namespace kvs::ui
