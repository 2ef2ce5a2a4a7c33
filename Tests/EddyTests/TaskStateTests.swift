import Testing
@testable import Eddy

/// The task state word's transitions (`TaskState.swift`), one thread, step by step.
@Suite struct TaskStateTests {
    @Test func lifecycleThroughANotifiedPoll() {
        let s = TaskStateCell()
        let state1 = s.load()
        #expect(state1 == TaskState.initial)
        let state2 = s.load()
        #expect(state2.debugDescription == "TaskState(scheduled)")
        let mustQueue3 = s.transitionToNotified()  // already queued: wake-once
        #expect(!mustQueue3)
        let before = s.transitionToRunning()
        #expect(before.isScheduled && !before.isCancelled)
        let state4 = s.load()
        #expect(state4.debugDescription == "TaskState(running)")
        let mustQueue5 = s.transitionToNotified()  // woken while running: notified, not queued
        #expect(!mustQueue5)
        let state6 = s.load()
        #expect(state6.debugDescription == "TaskState(running|notified)")
        let mustQueue7 = s.transitionToIdle()  // the loop requeues it
        #expect(mustQueue7)
        let state8 = s.load()
        #expect(state8 == TaskState.initial)
        _ = s.transitionToRunning()
        let mustQueue9 = s.transitionToIdle()  // no wake meanwhile: idle, not queued
        #expect(!mustQueue9)
        let state10 = s.load()
        #expect(state10.debugDescription == "TaskState(idle)")
        let mustQueue11 = s.transitionToNotifiedOnLoop()  // idle: the waker queues it
        #expect(mustQueue11)
        let mustQueue12 = s.transitionToNotifiedOnLoop()
        #expect(!mustQueue12)
        _ = s.transitionToRunning()
        s.transitionToComplete()
        let mustQueue13 = s.isComplete
        #expect(mustQueue13)
        let state14 = s.load()
        #expect(state14.debugDescription == "TaskState(complete)")
        let mustQueue15 = s.transitionToNotified()  // complete: every wake ignored
        #expect(!mustQueue15)
        let mustWake16 = s.requestCancel()  // and so is a late abort
        #expect(!mustWake16)
        let state17 = s.load()
        #expect(state17.isValid)
    }

    @Test func cancellation() {
        let s = TaskStateCell()
        let mustWake18 = s.requestCancel()  // first request on a live task: the caller wakes it
        #expect(mustWake18)
        let mustWake19 = s.requestCancel()
        #expect(!mustWake19)
        let ran = s.transitionToRunning()
        #expect(ran.isCancelled)
        s.transitionToComplete()
        let state20 = s.load()
        #expect(state20.debugDescription == "TaskState(complete|cancelled)")
        let dropped = TaskStateCell()
        dropped.transitionToCancelled()
        let state21 = dropped.load()
        #expect(state21 == TaskState.dropped && state21.isValid)
    }

    @Test func invariantsRejectImpossibleStates() {
        #expect(!TaskState(bits: TaskState.scheduled | TaskState.running).isValid)
        #expect(!TaskState(bits: TaskState.notified).isValid)
        #expect(!TaskState(bits: TaskState.complete | TaskState.running).isValid)
        #expect(TaskState(bits: TaskState.running | TaskState.notified | TaskState.cancelled).isValid)
    }
}
