/**
 * Broker benchmark: kafkajs producer and consumer throughput and produce-to-consume latency against the
 * embedded broker (a child process, as in production), beside the disk's raw limit measured in the same run.
 *
 *   npm run bench:broker -- [--messages 300000] [--batch 500] [--concurrency 4] [--partitions 4] [--threads 2] [--rounds 3]
 *
 * kafkajs encodes every record in JavaScript and is CPU-bound well before the broker is, so the kafkajs
 * producer runs in --threads worker threads, and the same load is also sent with librdkafka (kcat), the
 * client that shows what the broker itself sustains. The broker's CPU time per phase is reported.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, open as openFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { measureRawSequentialFsync } from './raw-disk';
import { fmt, median, summarize } from './stats';

const CLI = resolve(__dirname, '../../../services/ops/bin/tidemark.js');
const VALUE = Buffer.alloc(1024, 0x62);

async function startBrokerProcess(dataDir: string) {
  const child = spawn(
    process.execPath,
    [CLI, 'broker', '--port', '0', '--data-dir', dataDir, '--metrics-port=-1'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TIDEMARK_LOG_LEVEL: 'warn' },
    },
  );
  const bootstrap = await new Promise<string>((ready, fail) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /broker ready (\S+)/.exec(out);
      if (match?.[1]) ready(match[1]);
    });
    child.once('exit', (code) => fail(new Error(`broker exited (${code})`)));
  });
  return {
    bootstrap,
    cpuSeconds: () => processCpuSeconds(child.pid ?? 0),
    stop: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

/** user + system CPU seconds of a process, from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

interface ProducerJob {
  bootstrap: string;
  topic: string;
  messages: number;
  batch: number;
  concurrency: number;
  partitions: number;
  firstPartition: number;
}

/** One kafkajs producer sending `messages` 1 KiB values in batches; returns per-batch acknowledge latencies. */
async function produceWithKafkajs(job: ProducerJob): Promise<number[]> {
  const kafka = new Kafka({ clientId: 'bench', brokers: [job.bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const latencies: number[] = [];
  let sent = 0;
  let nextPartition = job.firstPartition;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (sent < job.messages) {
        const count = Math.min(job.batch, job.messages - sent);
        sent += count;
        const partition = nextPartition++ % job.partitions;
        const messages = Array.from({ length: count }, () => ({ value: VALUE, partition }));
        const t0 = performance.now();
        await producer.send({ topic: job.topic, acks: -1, compression: CompressionTypes.None, messages });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  await producer.disconnect();
  return latencies;
}

function produceInThread(job: ProducerJob): Promise<number[]> {
  return new Promise((resolveJob, rejectJob) => {
    const worker = new Worker(__filename, { workerData: job });
    worker.once('message', (latencies: number[]) => resolveJob(latencies));
    worker.once('error', rejectJob);
  });
}

/** librdkafka (kcat) producing the same values from a file, acks=all; resolves with the wall time. */
async function produceWithKcat(bootstrap: string, topic: string, file: string): Promise<number> {
  const started = performance.now();
  await new Promise<void>((done, fail) => {
    const child = spawn(
      'kcat',
      [
        '-P',
        '-b',
        bootstrap,
        '-t',
        topic,
        '-X',
        'acks=all',
        '-X',
        'linger.ms=5',
        '-X',
        'batch.size=1000000',
        '-l',
        file,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`kcat exited ${code}`))));
  });
  return (performance.now() - started) / 1000;
}

async function writeMessageFile(path: string, count: number): Promise<void> {
  const line = Buffer.alloc(1024, 0x62);
  line[1023] = 0x0a; // 1023 value bytes + newline delimiter
  const chunk = Buffer.concat(Array.from({ length: 1000 }, () => line));
  const handle = await openFile(path, 'w');
  for (let written = 0; written < count; written += 1000) await handle.write(chunk);
  await handle.close();
}

async function round(
  options: { messages: number; batch: number; concurrency: number; partitions: number; threads: number },
  index: number,
) {
  const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-bench-'));
  await chmod(dataDir, 0o755);
  const broker = await startBrokerProcess(dataDir);
  const kafka = new Kafka({ clientId: 'bench', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const topic = `bench-${index}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: options.partitions }] });
  await admin.disconnect();

  // 1. kafkajs producer throughput: batched sends, acks -1 (every acknowledged batch is fsynced).
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const perThread = Math.ceil(options.messages / options.threads);
  const brokerCpuBefore = broker.cpuSeconds();
  const produceStarted = performance.now();
  const batchLatencies = (
    await Promise.all(
      Array.from({ length: options.threads }, (_, t) =>
        produceInThread({
          bootstrap: broker.bootstrap,
          topic,
          messages: perThread,
          batch: options.batch,
          concurrency: options.concurrency,
          partitions: options.partitions,
          firstPartition: t,
        }),
      ),
    )
  ).flat();
  const produceSeconds = (performance.now() - produceStarted) / 1000;
  const produceBrokerCpu = broker.cpuSeconds() - brokerCpuBefore;
  const producedCount = perThread * options.threads;

  // 2. Consumer throughput: read everything back from the beginning.
  const consumer = kafka.consumer({
    groupId: `bench-reader-${index}`,
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let consumed = 0;
  const consumeStarted = performance.now();
  await new Promise<void>((done) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          consumed += batch.messages.length;
          if (consumed >= producedCount) done();
        },
      })
      .catch(() => done());
  });
  const consumeSeconds = (performance.now() - consumeStarted) / 1000;
  await consumer.disconnect();

  // 3. Produce-to-consume latency: single messages at a steady rate, a live consumer at the tail.
  const latencyTopic = `${topic}-latency`;
  const tail = kafka.consumer({ groupId: `bench-tail-${index}`, maxWaitTimeInMs: 500 });
  await tail.connect();
  await tail.subscribe({ topic: latencyTopic, fromBeginning: true });
  const endToEnd: number[] = [];
  const sentAt = new Map<string, number>();
  await tail.run({
    eachMessage: async ({ message }) => {
      const started = sentAt.get(message.value?.toString() ?? '');
      if (started !== undefined) endToEnd.push(performance.now() - started);
    },
  });
  await producer.send({ topic: latencyTopic, acks: -1, messages: [{ value: 'warm-up' }] });
  await new Promise((r) => setTimeout(r, 1500));
  for (let i = 0; i < 1000; i++) {
    const id = `m${i}`;
    sentAt.set(id, performance.now());
    await producer.send({ topic: latencyTopic, acks: -1, messages: [{ value: id }] });
    await new Promise((r) => setTimeout(r, 2));
  }
  const deadline = Date.now() + 10_000;
  while (endToEnd.length < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await tail.disconnect();
  await producer.disconnect();

  // 4. The same volume through librdkafka (kcat), the lighter client: what the broker sustains.
  const messageFile = join(dataDir, 'messages.txt');
  await writeMessageFile(messageFile, producedCount);
  const kcatCpuBefore = broker.cpuSeconds();
  const kcatSeconds = await produceWithKcat(broker.bootstrap, `${topic}-kcat`, messageFile);
  const kcatBrokerCpu = broker.cpuSeconds() - kcatCpuBefore;
  await rm(messageFile, { force: true });
  await broker.stop();

  // 5. The raw limit of the same disk for the same write size: sequential write + fdatasync.
  const raw = await measureRawSequentialFsync(dataDir, options.batch * 1024, 3000);
  await rm(dataDir, { recursive: true, force: true });

  const produceRate = producedCount / produceSeconds;
  const produceMb = (producedCount * 1024) / 1024 / 1024 / produceSeconds;
  return {
    produceRate,
    produceMb,
    produceBrokerCpuShare: produceBrokerCpu / produceSeconds,
    kcatRate: producedCount / kcatSeconds,
    kcatMb: (producedCount * 1024) / 1024 / 1024 / kcatSeconds,
    kcatBrokerCpuShare: kcatBrokerCpu / kcatSeconds,
    produceBatchMs: summarize(batchLatencies),
    consumeRate: consumed / consumeSeconds,
    consumeMb: (consumed * 1024) / 1024 / 1024 / consumeSeconds,
    endToEndMs: summarize(endToEnd),
    raw,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '300000' },
      threads: { type: 'string', default: '2' },
      batch: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '4' },
      partitions: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'broker.bench: kafkajs throughput and latency against the embedded broker beside the raw disk limit\n' +
        'options: --messages N (300000) --batch N (500) --concurrency N per thread (4) --partitions N (4)\n' +
        '         --threads N kafkajs producer threads (2) --rounds N (3)\n',
    );
    return;
  }
  const options = {
    messages: Number(values.messages),
    batch: Number(values.batch),
    concurrency: Number(values.concurrency),
    partitions: Number(values.partitions),
    threads: Number(values.threads),
  };
  const rounds: Awaited<ReturnType<typeof round>>[] = [];
  for (let i = 0; i < Number(values.rounds); i++) {
    const result = await round(options, i);
    rounds.push(result);
    process.stdout.write(
      `round ${i + 1}: kafkajs produce ${fmt(result.produceRate, 0)} msg/s (${fmt(result.produceMb)} MB/s, batch p50 ${fmt(result.produceBatchMs.p50)} ms p99 ${fmt(result.produceBatchMs.p99)} ms, broker CPU ${fmt(100 * result.produceBrokerCpuShare, 0)}%); ` +
        `kcat produce ${fmt(result.kcatRate, 0)} msg/s (broker CPU ${fmt(100 * result.kcatBrokerCpuShare, 0)}%); ` +
        `consume ${fmt(result.consumeRate, 0)} msg/s; end-to-end p50 ${fmt(result.endToEndMs.p50)} ms p99 ${fmt(result.endToEndMs.p99)} ms; ` +
        `raw disk ${fmt(result.raw.mbPerSec)} MB/s (${fmt(result.raw.writesPerSec, 0)} fsyncs/s, p50 ${fmt(result.raw.latencyMs.p50, 2)} ms p99 ${fmt(result.raw.latencyMs.p99, 2)} ms)\n`,
    );
  }
  const m = (pick: (r: (typeof rounds)[number]) => number) => median(rounds.map(pick));
  const lines = [
    '',
    `Broker benchmark: ${options.messages} x 1 KiB messages, batches of ${options.batch}, ${options.threads} kafkajs threads x ${options.concurrency} concurrent sends, ${options.partitions} partitions, acks -1; medians of ${rounds.length} rounds`,
    '',
    '| measure | p50 | p99 | rate |',
    '|---|---|---|---|',
    `| kafkajs produce (acks -1, fsynced) | batch ${fmt(m((r) => r.produceBatchMs.p50))} ms | batch ${fmt(m((r) => r.produceBatchMs.p99))} ms | ${fmt(
      m((r) => r.produceRate),
      0,
    )} msg/s, ${fmt(m((r) => r.produceMb))} MB/s |`,
    `| kcat (librdkafka) produce (acks all, fsynced) | | | ${fmt(
      m((r) => r.kcatRate),
      0,
    )} msg/s, ${fmt(m((r) => r.kcatMb))} MB/s |`,
    `| kafkajs consume | | | ${fmt(
      m((r) => r.consumeRate),
      0,
    )} msg/s, ${fmt(m((r) => r.consumeMb))} MB/s |`,
    `| produce-to-consume latency | ${fmt(m((r) => r.endToEndMs.p50))} ms | ${fmt(m((r) => r.endToEndMs.p99))} ms | |`,
    `| raw disk: sequential ${options.batch} KiB write + fdatasync | ${fmt(
      m((r) => r.raw.latencyMs.p50),
      2,
    )} ms | ${fmt(
      m((r) => r.raw.latencyMs.p99),
      2,
    )} ms | ${fmt(m((r) => r.raw.mbPerSec))} MB/s |`,
    '',
    `broker CPU while kafkajs produced: ${fmt(100 * m((r) => r.produceBrokerCpuShare), 0)}% of one core; while kcat produced: ${fmt(100 * m((r) => r.kcatBrokerCpuShare), 0)}%`,
    `ratio kafkajs produce MB/s / raw disk MB/s: ${fmt(
      m((r) => r.produceMb / r.raw.mbPerSec),
      2,
    )}; kcat produce MB/s / raw disk MB/s: ${fmt(
      m((r) => r.kcatMb / r.raw.mbPerSec),
      2,
    )}`,
    `goal >= 50,000 msg/s acknowledged and fsynced: kafkajs ${m((r) => r.produceRate) >= 50_000 ? 'met' : 'NOT met'}, kcat ${m((r) => r.kcatRate) >= 50_000 ? 'met' : 'NOT met'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (isMainThread) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
} else {
  produceWithKafkajs(workerData as ProducerJob).then(
    (latencies) => parentPort?.postMessage(latencies),
    (error: unknown) => {
      throw error;
    },
  );
}
