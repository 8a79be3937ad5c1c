{
  "extends": "{{tsconfig-base}}",
  "compilerOptions": { "rootDir": ".", "outDir": "dist" },
  "include": ["src", "test"]
}
