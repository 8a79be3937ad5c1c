/**
 * Properties over random valid histories (commands run through the real decider, tickets spread over
 * partitions, some TicketOpened at v1), at the end of the log and at a random cut of it: the summary fold equals
 * summaryFromDetail of the detail fold, the search fold equals searchDocumentFromDetail, and each agent's merged
 * workload equals what the detail views say (open and resolved tickets assigned to them; zero for an agent who
 * had tickets and has none now). The generator's coverage is asserted too, so the properties are not vacuous.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldedDocument, type LogEntry, referenceFold } from '@tidemark/sdk/testing';
import {
  type AgentWorkload,
  agentWorkloadProjection,
  COMMENT_EXCERPT_LENGTH,
  emptyAgentWorkload,
  searchDocumentFromDetail,
  summaryFromDetail,
  type TicketDetail,
  ticketDetailProjection,
  ticketSearchProjection,
  ticketSummaryProjection,
} from '../src/index';
import { random, randomTicketLog } from './support/history';

const SEEDS = 250;

function expectedWorkload(agentId: string, details: readonly TicketDetail[]): AgentWorkload {
  const workload = emptyAgentWorkload(agentId);
  for (const detail of details) {
    if (detail.assigneeId !== agentId) continue;
    if (detail.status === 'open') {
      workload.open++;
      workload.openByPriority[detail.priority]++;
    } else {
      workload.resolved++;
    }
  }
  return workload;
}

function checkLog(
  label: string,
  log: readonly LogEntry[],
  ticketIds: readonly string[],
  agents: readonly string[],
) {
  const detailFold = referenceFold(ticketDetailProjection, log);
  const summaryFold = referenceFold(ticketSummaryProjection, log);
  const searchFold = referenceFold(ticketSearchProjection, log);
  const workloadFold = referenceFold(agentWorkloadProjection, log);
  const details: TicketDetail[] = [];
  for (const id of ticketIds) {
    const detail = foldedDocument(ticketDetailProjection, detailFold, id);
    const summary = foldedDocument(ticketSummaryProjection, summaryFold, id);
    const search = foldedDocument(ticketSearchProjection, searchFold, id);
    if (detail === null) {
      assert.equal(summary, null, `${label} ${id}: a summary without a detail`);
      assert.equal(search, null, `${label} ${id}: a search document without a detail`);
      continue;
    }
    details.push(detail);
    assert.deepEqual(summary, summaryFromDetail(detail), `${label} ${id}: summary`);
    assert.deepEqual(search, searchDocumentFromDetail(detail), `${label} ${id}: search`);
  }
  for (const agentId of agents) {
    const merged = foldedDocument(agentWorkloadProjection, workloadFold, agentId);
    const expected = expectedWorkload(agentId, details);
    if (merged === null) {
      // No document: nothing was ever assigned to the agent, so no detail names them.
      assert.deepEqual(expected, emptyAgentWorkload(agentId), `${label} ${agentId}: missing workload`);
    } else {
      assert.deepEqual(merged, expected, `${label} ${agentId}: workload`);
    }
  }
  return details;
}

test('property: summary, search and workload agree with the detail view at any cut of a random log', () => {
  const seen = { v1Opened: 0, reassigned: 0, reopened: 0, atReopenLimit: 0, excerptsCut: 0, spreadAgents: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const rnd = random(seed);
    const partitions = 1 + Math.floor(rnd() * 4);
    const { log, ticketIds, agents } = randomTicketLog(rnd, {
      prefix: `t${seed}`,
      tickets: 1 + Math.floor(rnd() * 6),
      partitions,
      steps: 10 + Math.floor(rnd() * 80),
    });
    const cut = Math.floor(rnd() * (log.length + 1));
    checkLog(`seed ${seed} cut ${cut}`, log.slice(0, cut), ticketIds, agents);
    const details = checkLog(`seed ${seed}`, log, ticketIds, agents);

    for (const { event } of log) {
      if (event.type === 'TicketOpened' && event.schemaVersion === 1) seen.v1Opened++;
      if (event.type === 'TicketReopened') seen.reopened++;
      const previous =
        event.type === 'TicketAssigned' &&
        typeof event.payload === 'object' &&
        event.payload !== null &&
        'previousAgentId' in event.payload
          ? event.payload.previousAgentId
          : null;
      if (previous !== null) seen.reassigned++;
    }
    seen.atReopenLimit += details.filter((detail) => detail.reopenCount === 3).length;
    seen.excerptsCut += details.filter((detail) => detail.lastComment?.excerpt.endsWith('…')).length;
    const workloadFold = referenceFold(agentWorkloadProjection, log);
    for (const agentId of agents) {
      const holding = [...workloadFold.values()].filter((docs) => docs.has(agentId)).length;
      if (holding > 1) seen.spreadAgents++;
    }
  }
  assert.ok(COMMENT_EXCERPT_LENGTH > 0);
  for (const [what, count] of Object.entries(seen)) assert.ok(count > 0, `the random logs never had ${what}`);
});
