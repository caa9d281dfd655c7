// What a transfer shows while it runs: on a terminal a bar per file and a total with rate and ETA
// (cli-progress), elsewhere a plain line every few seconds, and with --json one event per line.
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export type ProgressMode = 'tty' | 'lines' | 'json';

export function progressMode(json: boolean): ProgressMode {
  return json ? 'json' : process.stderr.isTTY ? 'tty' : 'lines';
}

const LINE_EVERY_MS = 5000;
const JSON_EVERY_MS = 1000;
const RATE_WINDOW_MS = 10_000;
const NAME_WIDTH = 32;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(n)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.ceil(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** The bar of one file. */
export interface FileProgress {
  /** Bytes sent (or received) now; negative when a failed attempt is taken back. */
  moved(n: number): void;
  /** Bytes that need no transfer (parts a resumed upload already has). */
  credit(n: number): void;
  /** The file is done or given up: its bar goes. */
  close(): void;
}

export class Progress {
  readonly mode: ProgressMode;
  readonly #verb: string;
  #files = 0;
  #filesDone = 0;
  #total = 0;
  #done = 0;
  #moved = 0;
  readonly #samples: { at: number; moved: number }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #bars: MultiBar | undefined;
  #totalBar: SingleBar | undefined;
  #lastJson = -1;
  #startedAt = Date.now();
  #stopped = false;

  constructor(mode: ProgressMode, verb: string) {
    this.mode = mode;
    this.#verb = verb;
  }

  start(files: number, bytes: number): void {
    this.#files = files;
    this.#total = bytes;
    this.#startedAt = Date.now();
    this.#samples.push({ at: this.#startedAt, moved: 0 });
    if (this.mode === 'json') {
      this.event({ event: 'start', files, bytes });
      this.#timer = setInterval(() => this.#jsonProgress(), JSON_EVERY_MS);
    } else if (this.mode === 'tty') {
      this.#bars = new MultiBar(
        {
          stream: process.stderr,
          format: ' {bar} {percentage}% {name} {amount}{extra}',
          hideCursor: true,
          autopadding: true,
          barsize: 20,
          fps: 5,
        },
        Presets.shades_classic,
      );
      this.#totalBar = this.#bars.create(Math.max(bytes, 1), 0, this.#totalPayload());
      this.#timer = setInterval(() => this.#redrawTotal(), 1000);
    } else {
      this.#timer = setInterval(() => this.#line(), LINE_EVERY_MS);
    }
    this.#timer.unref();
  }

  /** Bytes per second over the last seconds of transfer. */
  rate(): number {
    const now = Date.now();
    while (this.#samples.length > 1 && now - this.#samples[0]!.at > RATE_WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0]!;
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (this.#moved - first.moved) / seconds : 0;
  }

  #eta(): number {
    const left = this.#total - this.#done;
    if (left <= 0) return 0;
    const rate = this.rate();
    return rate > 0 ? left / rate : Number.POSITIVE_INFINITY;
  }

  #totalPayload(): Record<string, string> {
    return {
      name: 'total',
      amount: `${formatBytes(this.#done)}/${formatBytes(this.#total)}`,
      // Rate and ETA before the file count: an 80-column terminal cuts the end of the line.
      extra: ` ${formatBytes(this.rate())}/s ETA ${formatSeconds(this.#eta())} ${this.#filesDone}/${this.#files} files`,
    };
  }

  #redrawTotal(): void {
    this.#samples.push({ at: Date.now(), moved: this.#moved });
    this.#totalBar?.update(this.#done, this.#totalPayload());
  }

  #summary(): string {
    const percent = this.#total > 0 ? Math.floor((this.#done / this.#total) * 100) : 100;
    return `${this.#verb}: ${formatBytes(this.#done)} of ${formatBytes(this.#total)} (${percent}%), ${formatBytes(this.rate())}/s, ETA ${formatSeconds(this.#eta())}; ${this.#filesDone} of ${this.#files} files done`;
  }

  #line(): void {
    this.#samples.push({ at: Date.now(), moved: this.#moved });
    process.stderr.write(`${this.#summary()}\n`);
  }

  #jsonProgress(): void {
    this.#samples.push({ at: Date.now(), moved: this.#moved });
    if (this.#done === this.#lastJson) return;
    this.#lastJson = this.#done;
    const rate = this.rate();
    const eta = this.#eta();
    this.event({
      event: 'progress',
      bytes: this.#done,
      total: this.#total,
      rate: Math.round(rate),
      ...(Number.isFinite(eta) ? { etaSeconds: Math.ceil(eta) } : {}),
    });
  }

  file(name: string, size: number): FileProgress {
    const bar = this.#bars?.create(Math.max(size, 1), 0, {
      // The end of a long path says most, and keeps the bar on one line.
      name: name.length > NAME_WIDTH ? `…${name.slice(-(NAME_WIDTH - 1))}` : name,
      amount: `0 B/${formatBytes(size)}`,
      extra: '',
    });
    let fileDone = 0;
    const show = () => bar?.update(fileDone, { amount: `${formatBytes(fileDone)}/${formatBytes(size)}` });
    return {
      moved: (n) => {
        fileDone += n;
        this.#done += n;
        this.#moved += n;
        show();
      },
      credit: (n) => {
        fileDone += n;
        this.#done += n;
        show();
      },
      close: () => {
        if (!bar || !this.#bars) return;
        // Drawn once in its final state: a file faster than a redraw would otherwise never show.
        this.#bars.update();
        this.#bars.remove(bar);
      },
    };
  }

  /** A file finished (or was skipped): counts it, with what its size still owed the total. */
  fileFinished(unaccountedBytes = 0): void {
    this.#filesDone++;
    this.#done += unaccountedBytes;
  }

  /** A JSON line on stdout, in --json mode only. */
  event(value: Record<string, unknown>): void {
    if (this.mode === 'json') process.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A result for people: on stdout, above the bars when they share the terminal. */
  say(text: string): void {
    if (this.mode === 'json') return;
    if (this.#bars && process.stdout.isTTY) this.#bars.log(`${text}\n`);
    else process.stdout.write(`${text}\n`);
  }

  /** A remark for people on stderr (with --json: a note event). */
  note(text: string): void {
    if (this.mode === 'json') this.event({ event: 'note', message: text });
    else if (this.#bars) this.#bars.log(`${text}\n`);
    else process.stderr.write(`${text}\n`);
  }

  /** Ends the display once; later calls do nothing. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#bars) {
      this.#redrawTotal();
      this.#bars.stop();
      this.#bars = undefined;
    } else if (this.mode === 'lines' && this.#files > 0) {
      const seconds = (Date.now() - this.#startedAt) / 1000;
      process.stderr.write(
        `${this.#verb}: ${formatBytes(this.#moved)} transferred in ${formatSeconds(seconds)} (${formatBytes(this.#moved / Math.max(seconds, 0.001))}/s); ${this.#filesDone} of ${this.#files} files done\n`,
      );
    }
  }
}
