/**
 * Classic (pre-KIP-848) consumer group coordinator for a single node.
 *
 * Membership lives in memory only (after a restart members get UNKNOWN_MEMBER_ID and rejoin, which every
 * client handles); committed offsets are durable through a journal that is replayed and compacted on open.
 *
 * States follow Kafka's GroupMetadata: Empty -> PreparingRebalance -> CompletingRebalance -> Stable, back to
 * PreparingRebalance on any membership or metadata change. JoinGroup responses are held until the join
 * phase completes: when every known member has (re)joined, or after the largest rebalance timeout, dropping
 * members that did not rejoin. The first rebalance of an Empty group waits groupInitialRebalanceDelayMs,
 * extended while new members keep arriving (bounded by the rebalance timeout), as Kafka's InitialDelayedJoin.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '@tidemark/kafka-protocol';
import type { Logger } from 'pino';
import type {
  BrokerConfig,
  CommittedOffset,
  GroupCoordinator,
  GroupDescription,
  GroupState,
  JoinGroupInput,
  JoinGroupOutput,
  OffsetCommitEntry,
  TopicPartition,
} from '../contracts';
import { Journal } from '../storage/journal';

/** A session timer firing later than this saw a stalled event loop (see onSessionTimer). */
export const SESSION_TIMER_STALL_MS = 50;

/** Kafka's offset.metadata.max.bytes default. */
const MAX_OFFSET_METADATA_LENGTH = 4096;
/** Compact the offsets journal once this many records were appended since the last compaction... */
const COMPACT_MIN_APPENDS = 10_000;

/** One journal line: the offsets of one commit, [topic, partition, offset, metadata]. */
export interface OffsetJournalRecord {
  g: string;
  o: [string, number, number, string | null][];
}

type SyncResult = { errorCode: number; assignment: Buffer };

interface Member {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  joinWaiter: ((result: JoinGroupOutput) => void) | null;
  syncWaiter: ((result: SyncResult) => void) | null;
  sessionTimer: NodeJS.Timeout | null;
}

interface StoredOffset {
  offset: number;
  metadata: string | null;
}

interface Group {
  readonly groupId: string;
  state: GroupState;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  /** Insertion order matters: the first member becomes leader when one is needed. */
  readonly members: Map<string, Member>;
  /** topic -> partition -> committed offset. */
  readonly offsets: Map<string, Map<number, StoredOffset>>;
  joinTimer: NodeJS.Timeout | null;
  /** Set while the initial rebalance delay of an Empty group runs. */
  initialDelay: { newMemberAdded: boolean; remainingMs: number } | null;
}

const EMPTY = Buffer.alloc(0);

function joinError(memberId: string, errorCode: number): JoinGroupOutput {
  return { errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] };
}

function sameProtocols(a: Member['protocols'], b: Member['protocols']): boolean {
  return (
    a.length === b.length &&
    a.every((protocol, i) => {
      const other = b[i];
      return other !== undefined && other.name === protocol.name && other.metadata.equals(protocol.metadata);
    })
  );
}

export class DiskGroupCoordinator implements GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private closed = false;
  private appendsSinceCompaction = 0;
  private compacting = false;

  private constructor(
    private readonly config: BrokerConfig,
    private readonly logger: Logger,
    private readonly journal: Journal<OffsetJournalRecord>,
  ) {}

  static async open(
    config: BrokerConfig,
    deps: { logger: Logger; dataDir: string },
  ): Promise<DiskGroupCoordinator> {
    const journal = await Journal.open<OffsetJournalRecord>(join(deps.dataDir, 'group-offsets.jsonl'));
    const coordinator = new DiskGroupCoordinator(config, deps.logger, journal);
    for (const record of journal.replayed) {
      if (typeof record?.g !== 'string' || !Array.isArray(record.o)) continue;
      const group = coordinator.getOrCreateGroup(record.g);
      for (const [topic, partition, offset, metadata] of record.o) {
        coordinator.setOffset(group, topic, partition, { offset, metadata });
      }
    }
    const replayedCount = journal.replayed.length;
    journal.replayed.length = 0;
    await journal.compact(coordinator.snapshot());
    deps.logger.debug({ groups: coordinator.groups.size, replayedCount }, 'group coordinator loaded');
    return coordinator;
  }

  // ------------------------------------------------------------ JoinGroup

  joinGroup(input: JoinGroupInput): Promise<JoinGroupOutput> {
    const { groupId, memberId } = input;
    if (this.closed) return Promise.resolve(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (groupId === '') return Promise.resolve(joinError(memberId, ErrorCode.INVALID_GROUP_ID));
    if (
      input.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs ||
      input.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs
    ) {
      return Promise.resolve(joinError(memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }

    const existing = this.groups.get(groupId);
    if (existing === undefined && memberId !== '') {
      return Promise.resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
    if (existing?.state === 'Dead') {
      return Promise.resolve(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
    if (!this.supportsProtocols(existing, input, memberId)) {
      return Promise.resolve(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const group = existing ?? this.getOrCreateGroup(groupId);

    return new Promise<JoinGroupOutput>((resolve) => {
      if (memberId === '') {
        this.addMemberAndRebalance(group, input, resolve);
        return;
      }
      const member = group.members.get(memberId);
      if (member === undefined) {
        resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
      }
      this.touch(group, member);
      switch (group.state) {
        case 'PreparingRebalance':
          this.updateMember(group, member, input, resolve);
          this.tryCompleteJoin(group);
          break;
        case 'CompletingRebalance':
          if (sameProtocols(member.protocols, input.protocols)) {
            // Probably a retry after a lost response: answer with the current generation.
            resolve(this.currentGeneration(group, member));
          } else {
            this.updateMemberAndRebalance(group, member, input, resolve);
          }
          break;
        case 'Stable':
          if (group.leaderId === memberId || !sameProtocols(member.protocols, input.protocols)) {
            // A rejoining leader forces a rebalance (it may have seen a metadata change).
            this.updateMemberAndRebalance(group, member, input, resolve);
          } else {
            resolve(this.currentGeneration(group, member));
          }
          break;
        default:
          resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      }
    });
  }

  private supportsProtocols(group: Group | undefined, input: JoinGroupInput, memberId: string): boolean {
    if (input.protocolType === '' || input.protocols.length === 0) return false;
    const others = group ? [...group.members.values()].filter((m) => m.memberId !== memberId) : [];
    if (others.length === 0) return true;
    if (group?.protocolType !== input.protocolType) return false;
    return input.protocols.some(({ name }) => others.every((m) => m.protocols.some((p) => p.name === name)));
  }

  private addMemberAndRebalance(
    group: Group,
    input: JoinGroupInput,
    resolve: (result: JoinGroupOutput) => void,
  ): void {
    const memberId = `${input.clientId}-${randomUUID()}`;
    const member: Member = {
      memberId,
      groupInstanceId: input.groupInstanceId,
      clientId: input.clientId,
      clientHost: input.clientHost,
      sessionTimeoutMs: input.sessionTimeoutMs,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs,
      protocolType: input.protocolType,
      protocols: input.protocols,
      assignment: EMPTY,
      joinWaiter: resolve,
      syncWaiter: null,
      sessionTimer: null,
    };
    if (group.members.size === 0) group.protocolType = input.protocolType;
    group.members.set(memberId, member);
    if (group.leaderId === null) group.leaderId = memberId;
    if (group.initialDelay !== null) group.initialDelay.newMemberAdded = true;
    this.touch(group, member);
    this.logger.debug({ groupId: group.groupId, memberId }, 'new member joins group');
    this.maybePrepareRebalance(group, `new member ${memberId}`);
    this.tryCompleteJoin(group);
  }

  private updateMember(
    group: Group,
    member: Member,
    input: JoinGroupInput,
    resolve: (result: JoinGroupOutput) => void,
  ): void {
    // A second JoinGroup while one is held: the client abandoned the first one.
    member.joinWaiter?.(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    member.joinWaiter = resolve;
    member.protocols = input.protocols;
    member.protocolType = input.protocolType;
    member.sessionTimeoutMs = input.sessionTimeoutMs;
    member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    if (group.members.size === 1) group.protocolType = input.protocolType;
  }

  private updateMemberAndRebalance(
    group: Group,
    member: Member,
    input: JoinGroupInput,
    resolve: (result: JoinGroupOutput) => void,
  ): void {
    this.updateMember(group, member, input, resolve);
    this.maybePrepareRebalance(group, `member ${member.memberId} rejoins`);
    this.tryCompleteJoin(group);
  }

  private currentGeneration(group: Group, member: Member): JoinGroupOutput {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolName: group.protocolName ?? '',
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      members: group.leaderId === member.memberId ? this.memberMetadata(group) : [],
    };
  }

  private memberMetadata(group: Group): JoinGroupOutput['members'] {
    return [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
    }));
  }

  // ------------------------------------------------------------ rebalance mechanics

  private maybePrepareRebalance(group: Group, reason: string): void {
    if (group.state === 'Empty' || group.state === 'Stable' || group.state === 'CompletingRebalance') {
      this.prepareRebalance(group, reason);
    }
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.state === 'CompletingRebalance') {
      // Members waiting in SyncGroup must rejoin.
      this.propagateAssignment(group, ErrorCode.REBALANCE_IN_PROGRESS, true);
    }
    const wasEmpty = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    this.clearJoinTimer(group);
    const rebalanceTimeoutMs = Math.max(0, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    const delay = this.config.groupInitialRebalanceDelayMs;
    this.logger.info(
      { groupId: group.groupId, generationId: group.generationId, reason },
      'preparing to rebalance group',
    );
    if (wasEmpty && delay > 0) {
      group.initialDelay = { newMemberAdded: false, remainingMs: Math.max(rebalanceTimeoutMs - delay, 0) };
      group.joinTimer = this.timer(() => this.onInitialDelayExpired(group), delay);
    } else {
      group.initialDelay = null;
      group.joinTimer = this.timer(() => this.completeJoin(group), rebalanceTimeoutMs);
    }
  }

  private onInitialDelayExpired(group: Group): void {
    group.joinTimer = null;
    const pending = group.initialDelay;
    if (pending === null) return;
    if (pending.newMemberAdded && pending.remainingMs > 0) {
      const delay = Math.min(this.config.groupInitialRebalanceDelayMs, pending.remainingMs);
      pending.newMemberAdded = false;
      pending.remainingMs = Math.max(pending.remainingMs - delay, 0);
      group.joinTimer = this.timer(() => this.onInitialDelayExpired(group), delay);
      return;
    }
    group.initialDelay = null;
    this.completeJoin(group);
  }

  private tryCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance' || group.initialDelay !== null) return;
    for (const member of group.members.values()) if (member.joinWaiter === null) return;
    this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance' || this.closed) return;
    this.clearJoinTimer(group);
    group.initialDelay = null;
    for (const member of [...group.members.values()]) {
      if (member.joinWaiter === null) {
        this.logger.info(
          { groupId: group.groupId, memberId: member.memberId },
          'member did not rejoin in time',
        );
        this.dropMember(group, member);
      }
    }
    group.generationId += 1;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocolName = null;
      group.leaderId = null;
      this.logger.info({ groupId: group.groupId, generationId: group.generationId }, 'group is now empty');
      return;
    }
    if (group.leaderId === null || !group.members.has(group.leaderId)) {
      group.leaderId = group.members.keys().next().value ?? null;
    }
    group.protocolName = this.selectProtocol(group);
    group.state = 'CompletingRebalance';
    this.logger.info(
      {
        groupId: group.groupId,
        generationId: group.generationId,
        protocol: group.protocolName,
        members: group.members.size,
      },
      'group join phase complete',
    );
    for (const member of group.members.values()) {
      const waiter = member.joinWaiter;
      member.joinWaiter = null;
      member.assignment = EMPTY;
      waiter?.(this.currentGeneration(group, member));
      this.touch(group, member);
    }
  }

  /** Majority vote over each member's preferred protocol among those all members support; ties go to the leader's order. */
  private selectProtocol(group: Group): string {
    const members = [...group.members.values()];
    const leader = (group.leaderId !== null ? group.members.get(group.leaderId) : undefined) ?? members[0];
    if (leader === undefined) return '';
    const candidates = leader.protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    const votes = new Map<string, number>();
    for (const member of members) {
      const vote = member.protocols.find((p) => candidates.includes(p.name))?.name;
      if (vote !== undefined) votes.set(vote, (votes.get(vote) ?? 0) + 1);
    }
    let best = candidates[0] ?? '';
    let bestVotes = -1;
    for (const name of candidates) {
      const count = votes.get(name) ?? 0;
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best;
  }

  /** Answers every member waiting in SyncGroup; with reset, assignments are cleared first. */
  private propagateAssignment(group: Group, errorCode: number, reset: boolean): void {
    for (const member of group.members.values()) {
      if (reset) member.assignment = EMPTY;
      const waiter = member.syncWaiter;
      if (waiter === null) continue;
      member.syncWaiter = null;
      waiter({ errorCode, assignment: errorCode === ErrorCode.NONE ? member.assignment : EMPTY });
      this.touch(group, member);
    }
  }

  /** Removes a member without triggering anything. */
  private dropMember(group: Group, member: Member): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
    member.joinWaiter?.(joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    member.joinWaiter = null;
    member.syncWaiter?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: EMPTY });
    member.syncWaiter = null;
    group.members.delete(member.memberId);
    if (group.leaderId === member.memberId) group.leaderId = group.members.keys().next().value ?? null;
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member, reason: string): void {
    this.dropMember(group, member);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.prepareRebalance(group, reason);
        this.tryCompleteJoin(group);
        break;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  /** (Re)starts the member's session timer. */
  private touch(group: Group, member: Member): void {
    this.armSession(group, member, member.sessionTimeoutMs);
  }

  private armSession(group: Group, member: Member, ms: number): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    const deadline = Date.now() + ms;
    member.sessionTimer = this.timer(() => this.onSessionTimer(group, member, deadline), ms);
  }

  /**
   * A session timer that fires late means this event loop was blocked (the broker shares it with the platform
   * in-process, or a long GC): timers run before pending socket reads, so heartbeats sent meanwhile may still be
   * unread. The time the broker could not listen is not held against the member: the session is extended by it
   * (at most one session) and expires only if no heartbeat is read by then. Kafka's network threads keep reading
   * while its timers run; this is the single-threaded equivalent.
   *
   * A timer on time still expires the member only after this turn's socket reads: a stall that ended just past
   * the deadline (less than the stall threshold) runs the member's own heartbeat timer in this same timers phase,
   * and its heartbeat is read in the poll phase that follows. setImmediate runs after that poll phase; a
   * heartbeat read there re-armed the session.
   */
  private onSessionTimer(group: Group, member: Member, deadline: number): void {
    const late = Date.now() - deadline;
    if (late > SESSION_TIMER_STALL_MS) {
      this.armSession(group, member, Math.min(late, member.sessionTimeoutMs));
      return;
    }
    const fired = member.sessionTimer;
    setImmediate(() => {
      if (member.sessionTimer === fired) this.onSessionExpired(group, member);
    });
  }

  private onSessionExpired(group: Group, member: Member): void {
    member.sessionTimer = null;
    if (this.closed || this.groups.get(group.groupId) !== group) return;
    if (group.members.get(member.memberId) !== member) return;
    if (member.joinWaiter !== null || member.syncWaiter !== null) {
      // Held in JoinGroup (bounded by the rebalance timeout) or SyncGroup (bounded by the leader's session).
      this.touch(group, member);
      return;
    }
    this.logger.info({ groupId: group.groupId, memberId: member.memberId }, 'member session expired');
    this.removeMemberAndUpdateGroup(group, member, `session timeout of ${member.memberId}`);
  }

  private clearJoinTimer(group: Group): void {
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = null;
  }

  /** Timers stay referenced (a held JoinGroup must not let the process exit); close() clears them all. */
  private timer(fn: () => void, ms: number): NodeJS.Timeout {
    return setTimeout(fn, ms);
  }

  // ------------------------------------------------------------ SyncGroup, Heartbeat, LeaveGroup

  syncGroup(input: {
    groupId: string;
    generationId: number;
    memberId: string;
    groupInstanceId: string | null;
    assignments: { memberId: string; assignment: Buffer }[];
  }): Promise<SyncResult> {
    const fail = (errorCode: number) => Promise.resolve({ errorCode, assignment: EMPTY });
    if (this.closed) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (input.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    const group = this.groups.get(input.groupId);
    if (group === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.state === 'Dead') return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const member = group.members.get(input.memberId);
    if (member === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (input.generationId !== group.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);

    switch (group.state) {
      case 'PreparingRebalance':
        return fail(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        this.touch(group, member);
        return Promise.resolve({ errorCode: ErrorCode.NONE, assignment: member.assignment });
      case 'CompletingRebalance':
        return new Promise<SyncResult>((resolve) => {
          member.syncWaiter?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
          member.syncWaiter = resolve;
          this.touch(group, member);
          if (group.leaderId !== member.memberId) return;
          for (const m of group.members.values()) m.assignment = EMPTY;
          for (const { memberId, assignment } of input.assignments) {
            const target = group.members.get(memberId);
            if (target) target.assignment = assignment;
          }
          group.state = 'Stable';
          this.logger.info(
            { groupId: group.groupId, generationId: group.generationId },
            'assignment received from leader; group is stable',
          );
          this.propagateAssignment(group, ErrorCode.NONE, false);
        });
      default:
        return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    }
  }

  heartbeat(input: {
    groupId: string;
    generationId: number;
    memberId: string;
    groupInstanceId: string | null;
  }): number {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (input.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(input.groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const member = group.members.get(input.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (input.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.touch(group, member);
        return ErrorCode.NONE;
      case 'PreparingRebalance':
        this.touch(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  leaveGroup(
    groupId: string,
    members: { memberId: string; groupInstanceId: string | null }[],
  ): {
    errorCode: number;
    members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
  } {
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.groups.get(groupId);
    if (group?.state === 'Dead') return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const results = members.map(({ memberId, groupInstanceId }) => {
      let member = group?.members.get(memberId);
      if (member === undefined && groupInstanceId !== null && group) {
        member = [...group.members.values()].find((m) => m.groupInstanceId === groupInstanceId);
      }
      if (group === undefined || member === undefined) {
        return { memberId, groupInstanceId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
      }
      this.logger.info({ groupId, memberId: member.memberId }, 'member leaves group');
      this.removeMemberAndUpdateGroup(group, member, `member ${member.memberId} left`);
      return { memberId, groupInstanceId, errorCode: ErrorCode.NONE };
    });
    return { errorCode: ErrorCode.NONE, members: results };
  }

  // ------------------------------------------------------------ offsets

  async commitOffsets(
    groupId: string,
    generationId: number,
    memberId: string,
    offsets: OffsetCommitEntry[],
  ): Promise<{ topic: string; partition: number; errorCode: number }[]> {
    const all = (errorCode: number) =>
      offsets.map(({ topic, partition }) => ({ topic, partition, errorCode }));
    if (this.closed) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);

    const existing = this.groups.get(groupId);
    const hasMembers = existing !== undefined && existing.members.size > 0;
    const simpleCommit = generationId < 0 && memberId === '';
    if (existing === undefined && generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
    if (!(simpleCommit && !hasMembers)) {
      // A commit from a group member: it must belong to the current generation.
      const member = existing?.members.get(memberId);
      if (existing === undefined || member === undefined) return all(ErrorCode.UNKNOWN_MEMBER_ID);
      if (generationId !== existing.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
      if (existing.state === 'CompletingRebalance') return all(ErrorCode.REBALANCE_IN_PROGRESS);
      if (existing.state !== 'Stable' && existing.state !== 'PreparingRebalance') {
        return all(ErrorCode.UNKNOWN_MEMBER_ID);
      }
      this.touch(existing, member);
    }

    const group = existing ?? this.getOrCreateGroup(groupId);
    const accepted: OffsetCommitEntry[] = [];
    const results = offsets.map((entry) => {
      if (entry.metadata !== null && entry.metadata.length > MAX_OFFSET_METADATA_LENGTH) {
        return {
          topic: entry.topic,
          partition: entry.partition,
          errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE,
        };
      }
      accepted.push(entry);
      return { topic: entry.topic, partition: entry.partition, errorCode: ErrorCode.NONE };
    });
    const errorCode = await this.store(group, accepted);
    if (errorCode !== ErrorCode.NONE) return all(errorCode);
    return results;
  }

  async applyTxnOffsets(groupId: string, offsets: OffsetCommitEntry[]): Promise<void> {
    if (this.closed) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const errorCode = await this.store(this.getOrCreateGroup(groupId), offsets);
    if (errorCode !== ErrorCode.NONE) throw new KafkaError(errorCode, 'storing transactional offsets failed');
  }

  /** Applies the offsets in memory and resolves once they are durable. */
  private async store(group: Group, offsets: OffsetCommitEntry[]): Promise<number> {
    if (offsets.length === 0) return ErrorCode.NONE;
    for (const { topic, partition, offset, metadata } of offsets) {
      this.setOffset(group, topic, partition, { offset, metadata });
    }
    const record: OffsetJournalRecord = {
      g: group.groupId,
      o: offsets.map(({ topic, partition, offset, metadata }) => [topic, partition, offset, metadata]),
    };
    this.appendsSinceCompaction += 1;
    try {
      await this.journal.append([record]);
    } catch (error) {
      this.logger.error({ err: error, groupId: group.groupId }, 'persisting committed offsets failed');
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    this.maybeCompact();
    return ErrorCode.NONE;
  }

  private maybeCompact(): void {
    if (this.compacting || this.closed) return;
    if (this.appendsSinceCompaction < Math.max(COMPACT_MIN_APPENDS, this.groups.size * 4)) return;
    this.compacting = true;
    this.appendsSinceCompaction = 0;
    // The snapshot includes every offset whose append was issued before this call, as compact() requires.
    this.journal
      .compact(this.snapshot())
      .catch((error: unknown) => this.logger.error({ err: error }, 'compacting the offsets journal failed'))
      .finally(() => {
        this.compacting = false;
      });
  }

  private snapshot(): OffsetJournalRecord[] {
    const records: OffsetJournalRecord[] = [];
    for (const group of this.groups.values()) {
      const o: OffsetJournalRecord['o'] = [];
      for (const [topic, partitions] of group.offsets) {
        for (const [partition, { offset, metadata }] of partitions)
          o.push([topic, partition, offset, metadata]);
      }
      if (o.length > 0) records.push({ g: group.groupId, o });
    }
    return records;
  }

  private setOffset(group: Group, topic: string, partition: number, value: StoredOffset): void {
    let partitions = group.offsets.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      group.offsets.set(topic, partitions);
    }
    partitions.set(partition, value);
  }

  fetchOffsets(groupId: string, partitions: TopicPartition[] | null): CommittedOffset[] {
    if (this.closed) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const group = this.groups.get(groupId);
    if (partitions === null) {
      const result: CommittedOffset[] = [];
      for (const [topic, byPartition] of group?.offsets ?? []) {
        for (const [partition, { offset, metadata }] of byPartition) {
          result.push({ topic, partition, offset, metadata, errorCode: ErrorCode.NONE });
        }
      }
      return result;
    }
    return partitions.map(({ topic, partition }) => {
      const stored = group?.offsets.get(topic)?.get(partition);
      return stored
        ? { topic, partition, offset: stored.offset, metadata: stored.metadata, errorCode: ErrorCode.NONE }
        : { topic, partition, offset: -1, metadata: '', errorCode: ErrorCode.NONE };
    });
  }

  // ------------------------------------------------------------ admin

  describeGroup(groupId: string): GroupDescription {
    const dead = (errorCode: number): GroupDescription => ({
      errorCode,
      groupId,
      state: 'Dead',
      protocolType: '',
      protocolData: '',
      members: [],
    });
    if (this.closed) return dead(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const group = this.groups.get(groupId);
    if (group === undefined) return dead(ErrorCode.NONE);
    const stable = group.state === 'Stable';
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      // Like Kafka, protocol, metadata and assignments are only reported for a Stable group.
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable
          ? (m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY)
          : EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  listGroups(): { groupId: string; protocolType: string; state: GroupState }[] {
    if (this.closed) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return [...this.groups.values()]
      .filter((g) => g.state !== 'Dead')
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const group of this.groups.values()) {
      this.clearJoinTimer(group);
      group.initialDelay = null;
      for (const member of group.members.values()) {
        if (member.sessionTimer) clearTimeout(member.sessionTimer);
        member.sessionTimer = null;
        member.joinWaiter?.(joinError(member.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
        member.joinWaiter = null;
        member.syncWaiter?.({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, assignment: EMPTY });
        member.syncWaiter = null;
      }
    }
    await this.journal.close();
  }

  private getOrCreateGroup(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = {
        groupId,
        state: 'Empty',
        generationId: 0,
        protocolType: null,
        protocolName: null,
        leaderId: null,
        members: new Map(),
        offsets: new Map(),
        joinTimer: null,
        initialDelay: null,
      };
      this.groups.set(groupId, group);
    }
    return group;
  }
}
