/** secaudit: a security audit (OWASP Top 10, compliance, infrastructure, dependencies) with an expert review. */
import { z } from 'zod';
import { latestExtra } from '../state.js';
import { defineWorkflowTool } from '../types.js';
import {
  actionsByConfidence,
  settingOf,
  settingsSection,
  severityFilterField,
  statusNames,
} from './common.js';

const SYSTEM_PROMPT = `You are an application security engineer reviewing a security audit that another AI coding
assistant (the agent) carried out step by step. You get its findings, the issues it found, the audit scope and
the relevant files.

What to check, weighted by the audit focus and threat level given:
- OWASP Top 10: broken access control, cryptographic failures, injection (SQL, command, template, path),
  insecure design, misconfiguration, vulnerable components, authentication failures, integrity failures
  (deserialisation, unsigned updates), logging and monitoring gaps, SSRF.
- Secrets in code or logs, unsafe defaults, trust boundaries, input validation and output encoding.
- Infrastructure and dependencies when in scope: exposed services, permissions, outdated or risky packages.
- Compliance requirements given: name the control and whether the code meets it.
Confirm or reject the agent's findings and add what it missed. Rate by exploitability and impact in this
system's context; report only findings at or above the severity filter. Every finding needs a location, an
exploit scenario and a concrete remediation. Do not pad with generic advice.

Answer with this JSON, most severe first:
{"status": "security_analysis_complete",
 "summary": "<overall security posture in three sentences>",
 "risk_level": "critical|high|medium|low",
 "findings": [{"id": "S1", "severity": "critical|high|medium|low", "category": "<OWASP id or area>",
   "title": "...", "file": "path", "line": "<line or range>", "description": "...",
   "exploit_scenario": "...", "remediation": "...", "agent_reported": true}],
 "compliance": [{"requirement": "...", "status": "met|partial|not_met|unknown", "gap": "..."}],
 "remediation_priorities": ["S1", "..."],
 "positives": ["<security controls done well>"]}`;

export const secauditTool = defineWorkflowTool({
  name: 'secaudit',
  title: 'SecAudit: security audit with an expert review',
  description:
    'Security audit (OWASP Top 10, auth, input handling, secrets, dependencies, compliance); an expert model then reviews your issues_found with relevant_files.',
  fields: {
    security_scope: z.string().optional().describe('Kind of system, exposure, data handled, stack.'),
    threat_level: z.enum(['low', 'medium', 'high', 'critical']).optional().describe('Default: medium.'),
    compliance_requirements: z.array(z.string()).optional().describe('e.g. ["SOC2", "GDPR"]'),
    audit_focus: z
      .enum(['owasp', 'compliance', 'infrastructure', 'dependencies', 'comprehensive'])
      .optional()
      .describe('Default: comprehensive.'),
    severity_filter: severityFilterField,
  },
  names: statusNames('security_audit', 'security_analysis_complete', {
    skipped: 'skipped_due_to_certain_audit_confidence',
    exai: { required: 'secaudit_required' },
  }),
  defaultTemperature: 0.2,
  expert: {
    systemPrompt: SYSTEM_PROMPT,
    requestTitle: 'SECURITY AUDIT REQUEST',
    sections: view =>
      settingsSection('AUDIT SETTINGS', {
        Scope: latestExtra(view.state, 'security_scope'),
        'Threat level': settingOf(view, 'threat_level', 'medium'),
        'Audit focus': settingOf(view, 'audit_focus', 'comprehensive'),
        'Compliance requirements': latestExtra(view.state, 'compliance_requirements'),
        'Severity filter': settingOf(view, 'severity_filter', 'all'),
      }),
    guidance:
      'IMPORTANT: Verify each security finding above against the code before reporting it, and keep the ' +
      'severity tied to real exploitability here. Never paste secrets into your answer.',
  },
  requiredActions: view =>
    actionsByConfidence(view, {
      first: [
        'Map the attack surface: entry points, trust boundaries, data stores and secrets',
        'Read the authentication and authorisation code',
        'Note how input is validated and output encoded',
      ],
      early: [
        'Trace untrusted input to the places it is used (queries, commands, paths, templates)',
        'Check secrets handling, configuration defaults and error messages',
      ],
      middle: [
        'Verify each issue is exploitable here and rate it',
        'Check dependencies and infrastructure configuration in scope',
      ],
      late: ['Finalise issues_found with severities; set next_step_required to false for the expert review'],
    }),
  completionMessage:
    'SECURITY AUDIT IS COMPLETE. Present the findings to the user by severity with exploit scenarios and ' +
    'remediations, the compliance status, and the order in which to fix them.',
  certainMessage:
    'Security audit complete with CERTAIN confidence. Present the findings by severity with their remediations.',
});
