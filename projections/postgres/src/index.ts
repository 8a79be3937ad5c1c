export * from './naming';
export * from './sink';
