// The drill report for CI: JUnit XML, one testcase per step and one for the RTO, so a pipeline's
// test view shows which step of the recovery failed and how long each took.
import type { DrillReport } from './drill-model.js';

const escapeXml = (text: string): string =>
  // XML 1.0 cannot carry most control characters at all, not even escaped.
  text
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

const seconds = (ms?: number) => ((ms ?? 0) / 1000).toFixed(3);

export const renderDrillJunit = (report: DrillReport): string => {
  const suite = escapeXml(report.runbook);
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const step of report.steps) {
    const open = `    <testcase classname="${suite}" name="${escapeXml(`${step.id}: ${step.name}`)}" time="${seconds(step.durationMs)}"`;
    const body: string[] = [];
    if (step.status === 'failed' || step.status === 'interrupted') {
      if (!step.tolerated) failures++;
      const message = step.reason ?? step.status;
      body.push(
        `      <failure message="${escapeXml(message)}" type="${step.status}">${escapeXml(`${message}\nattempts: ${step.attempts}\n${step.verify.output ?? ''}`)}</failure>`,
      );
    } else if (step.status === 'skipped' || step.status === 'pending') {
      skipped++;
      body.push(`      <skipped message="${escapeXml(step.reason ?? step.status)}"/>`);
    }
    if (step.verify.output) body.push(`      <system-out>${escapeXml(step.verify.output)}</system-out>`);
    cases.push(body.length ? `${open}>\n${body.join('\n')}\n    </testcase>` : `${open}/>`);
  }
  if (report.rto) {
    const name = escapeXml(`rto: total ${seconds(report.durationMs)} s within ${report.rto.target}`);
    if (report.rto.met) cases.push(`    <testcase classname="${suite}" name="${name}" time="${seconds(report.durationMs)}"/>`);
    else {
      failures++;
      cases.push(
        `    <testcase classname="${suite}" name="${name}" time="${seconds(report.durationMs)}">\n      <failure message="RTO missed" type="rto">the recovery took ${seconds(report.durationMs)} s; the RTO is ${escapeXml(report.rto.target)}</failure>\n    </testcase>`,
      );
    }
  }
  const tests = report.steps.length + (report.rto ? 1 : 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="runbook drill" tests="${tests}" failures="${failures}" time="${seconds(report.durationMs)}">`,
    `  <testsuite name="${suite}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(report.durationMs)}" timestamp="${report.startedAt.replace(/\.\d+Z$/, '')}" hostname="${escapeXml(report.host ?? '')}">`,
    `    <properties>\n      <property name="environment" value="${escapeXml(report.environment ?? '')}"/>\n      <property name="commit" value="${escapeXml(report.commit ? `${report.commit}${report.dirty ? '-dirty' : ''}` : '')}"/>\n      <property name="run_id" value="${escapeXml(report.runId)}"/>\n    </properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
};
