import type { Document } from 'bson';
import type { Engine } from '../engine';

export interface CommandContext {
  engine: Engine;
  db: string;
  connectionId: number;
}

export type CommandHandler = (cmd: Document, ctx: CommandContext) => Document;
