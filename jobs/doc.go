// Package jobs is the worker that runs kafkaplane's durable operations:
// deploying an instance's brokers after StartInstance, and rolling them onto
// a new version after UpgradeInstanceVersion.
//
// # Model
//
// An operation follows AWS MSK's cluster operation: an id, a type, a state
// (PENDING → IN_PROGRESS → COMPLETE or FAILED), source and target versions,
// error info, timestamps and ordered, named steps, each with its own status
// (see kafkaplane.Operation). An API handler builds one with
// NewStartOperation or NewUpgradeOperation and stores it with
// OperationService.StartOperation, in the same transaction that moves the
// instance out of Running; then it calls Worker.Wake.
//
// The steps of an upgrade are
//
//	INITIALIZE_UPDATE         brokers up (rolled ones on the target), roll order fixed
//	ROLL_BROKER (one each)    RestartBroker onto the target, then CheckBroker
//	FINALIZE_UPDATE           operation COMPLETE + instance version, minor, 5 / 2
//
// and a start has the single step DEPLOY_BROKERS (Start, then CheckBroker of
// every broker). Brokers roll one at a time in the runtime's RollOrder,
// which sorts them by coordinator load: the brokers coordinating the
// fewest groups first, the controller last among equals. Each is checked
// as a client would see it before the next one goes down, so at most one
// broker is away at a time.
// A minor upgrade rolls the same way onto the same open-source version.
//
// # Running a step
//
// A worker claims an operation with a lease (ClaimOperation), then for each
// step that is not COMPLETE: writes it IN_PROGRESS (every write also
// extends the lease, and a heartbeat extends it every Lease/3 while the
// runtime works), runs it with a few retries, and writes it COMPLETE with
// its finish time. The last step is written by FinishOperation together
// with the operation's final state and the instance's new status, so the
// API never shows a finished operation next to an instance that is still
// upgrading, or the reverse.
//
// A crash between doing a step and recording it leaves the step
// IN_PROGRESS, and the next claim runs it again. Steps are therefore
// idempotent: Start leaves running brokers alone, RestartBroker onto the
// version a broker already runs is harmless, CheckBroker only reads. Steps
// recorded COMPLETE are never run again. After a restart the service
// starts every serving instance's brokers from SpecFor before the worker
// runs, so brokers that an interrupted roll had already upgraded come back
// on the new version.
//
// A step that still fails after its retries fails the operation: the step
// and the operation become FAILED with ErrorCode and ErrorMessage, and the
// instance takes the failed state of the domain's transition table
// (Instance.Finish): serving on its old version with ViewStatus 102
// (upgrade failed), or for a start ServiceStatus 0 with ViewStatus 101
// (deploy failed). The worker never writes a status pair itself. A lost compare-and-set on the operation means another
// worker took it over after our lease expired; the worker then stops
// without writing anything more.
//
// # Leases: a worker that stops and one that never comes back
//
// On Close (or when Run's context ends) the worker lets the step in
// flight finish, records it, and releases the lease so that any worker may
// resume at once. A worker that dies holds its lease until it expires; a
// process that restarts with the same Config.Owner clears its own leases
// first thing in Run, so it resumes its operations without waiting. A
// process that knows another worker has stopped (cmd/kafkaplane, when it
// takes over a replica's data plane) clears that worker's leases with
// ReleaseLeases.
//
// # Why a lease table and not River
//
// River (riverqueue/river) runs on both of our engines and implements the
// same shape: claimed jobs, attempts, a rescuer for dead workers. We use
// our own operations table with lease_owner and lease_until instead,
// because:
//
//   - One store of truth. The operation, its steps and its error are what
//     the API shows (the extension actions that list and describe
//     operations, GetInstanceList's ServiceStatus). With River the job row
//     would be a second copy of that state, and the two could disagree
//     after a crash; here the resumable state is the row the API reads.
//   - Atomic acceptance and finish with the instance row, on both engines,
//     through the store interfaces we already have: StartOperation and
//     FinishOperation are single transactions of the one store. River's
//     transactional insert would tie the store to River's driver types
//     instead.
//   - No young SQLite driver: River's SQLite driver is still labelled
//     early testing, and SQLite is our default engine.
//   - Fewer dependencies: the whole mechanism is one claim query in
//     sqlstore and this package, with no extra migrations to keep in
//     step with River's.
//
// What River would add — scheduled and periodic jobs, a job UI — kafkaplane
// does not need for a handful of long operations per instance.
package jobs
