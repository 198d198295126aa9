#include "request_tickets.h"

#include "session_worker.h"

namespace kvs::ui {

RequestTickets::RequestTickets(SessionWorker* worker) : worker_(worker) {
  for (int l = 0; l < kLanes; ++l) {
    newest_[l] = std::make_shared<std::atomic<quint64>>(0);
    cancel_[l] = std::make_shared<std::atomic<bool>>(false);
  }
}

RequestTickets::Lane RequestTickets::laneOf(Request kind) {
  switch (kind) {
    case Request::kRun:
    case Request::kRegenerate:
    case Request::kCompare:
    case Request::kOpenRecording:
    case Request::kLoad:
      return kWorkLane;
    case Request::kLayout:
      return kLayoutLane;
    case Request::kSimilarity:
      return kSimilarityLane;
    case Request::kOverview:
      return kOverviewLane;
    case Request::kLayerRatios:
      return kRatiosLane;
    case Request::kLayerBatch:
      return kBatchLane;
  }
  return kWorkLane;
}

// The worker's lanes are numbered as its ticket kinds.
static_assert(int(SessionWorker::kWork) == 0 && int(SessionWorker::kLayout) == 1 &&
              int(SessionWorker::kSimilarity) == 2 && int(SessionWorker::kOverview) == 3);

quint64 RequestTickets::take(Request kind) {
  const Lane lane = laneOf(kind);
  const quint64 ticket = lane <= kOverviewLane
                             ? worker_->takeTicket(static_cast<SessionWorker::Kind>(lane))
                             : newest_[lane]->load() + 1;
  newest_[lane]->store(ticket);
  cancel_[lane]->store(true);  // the previous request of the lane is no longer wanted
  cancel_[lane] = std::make_shared<std::atomic<bool>>(false);
  return ticket;
}

bool RequestTickets::isCurrent(Request kind, quint64 ticket) const {
  return newest_[laneOf(kind)]->load() == ticket;
}

std::shared_ptr<const std::atomic<quint64>> RequestTickets::newestOf(Request kind) const {
  return newest_[laneOf(kind)];
}

std::shared_ptr<std::atomic<bool>> RequestTickets::cancelFlag(Request kind) const {
  return cancel_[laneOf(kind)];
}

void RequestTickets::cancel(Request kind) {
  const Lane lane = laneOf(kind);
  // The worker's Stop: whatever runs there ends at its next check (a batch too, as the CLI's
  // Ctrl+C would), while a batch's own flag leaves the session's other work alone.
  if (lane == kWorkLane) worker_->requestStop();
  cancel_[lane]->store(true);
}

}  // namespace kvs::ui
