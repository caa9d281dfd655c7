#!/usr/bin/env node
// Entry point of the `mediahost` command: hands over to the TypeScript CLI (Node 24 strips types).
import '../src/main.ts';
