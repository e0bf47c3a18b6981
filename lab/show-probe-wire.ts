/** What the show's prober (lab/show-prober-main.ts) prints: one JSON line per finished probe. */
export interface ProbeResult {
  /** The target's name (a lab service). */
  svc: string;
  /** When the probe was sent (epoch ms): the time it stands for. */
  sentAt: number;
  ok: boolean;
  /** The answer's body (`<site> <service>`) when ok. */
  body?: string;
  error?: string;
}
