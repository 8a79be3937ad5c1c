export { DiskGroupCoordinator, type OffsetJournalRecord } from './group-coordinator';
export { DiskTransactionCoordinator, type TxnJournalRecord } from './transaction-coordinator';
