/**
 * At every start, while addresses shared by several users before "one address, one account" remain
 * (the migration's report, src/data/migrations.ts), says so once in the log with what to do.
 */
import type { Logger } from 'pino';
import { trusted } from 'mongoose';
import { MigrationModel, UserModel } from './models';
import { EMAIL_KEYS_MIGRATION, type SharedEmailReport } from './migrations';

export async function warnOfSharedEmails(logger: Logger): Promise<number> {
  const record = await MigrationModel.findById(EMAIL_KEYS_MIGRATION).lean();
  const report = record?.report as SharedEmailReport | null | undefined;
  if (!report?.sharedAddresses?.length) return 0;
  // Only those still unresolved (an admin may have given the others their own address since).
  const left = await UserModel.countDocuments({ username: trusted({ $in: report.sharedAddresses.flatMap((a) => a.others) }), emailKey: trusted({ $not: { $type: 'string' } }) });
  if (left) {
    logger.warn({ sharedAddresses: report.sharedAddresses.slice(0, 20), users: left },
      `${left} user(s) share an email address with an older account (from before "one address, one account"): they sign in by username only until an admin gives each its own address.`);
  }
  return left;
}
