/** analyze: architecture, performance, security or quality analysis of code, with an expert review. */
import { z } from 'zod';
import { defineWorkflowTool } from '../types.js';
import { actionsByConfidence, fileOrFinding, settingOf, settingsSection, statusNames } from './common.js';

const SYSTEM_PROMPT = `You are a principal engineer reviewing a codebase analysis made by another AI coding assistant (the
agent). It brings its findings over several steps and the files that matter. Give a strategic assessment the team
can act on, not a line-by-line review.

What to examine, weighted by the analysis type given:
- Architecture: module boundaries, coupling and cohesion, layering violations, data flow, extension points,
  where the design fights the problem.
- Performance and scalability: algorithmic cost on the hot paths, I/O and network patterns, blocking work,
  caching, memory growth, behaviour under concurrency and load.
- Security: trust boundaries, input validation, secrets, authentication and authorisation, unsafe defaults.
- Quality and maintainability: complexity, duplication, error handling, testability, naming, dead code, docs.
- Technical debt and tooling: dependencies, build, observability, operational risks.
Separate what matters from what is merely imperfect. Every finding needs evidence from the code (path:line) and
a recommendation proportionate to its impact; say what is done well too.

Answer with this JSON:
{"status": "analysis_complete",
 "summary": "<overall assessment in three sentences>",
 "strategic_findings": [{"finding": "...", "severity": "critical|high|medium|low", "category":
   "architecture|performance|security|quality|maintainability|operations", "evidence": "path:line and why",
   "impact": "...", "recommendation": "...", "effort": "low|medium|high"}],
 "quick_wins": ["<high value, low effort>"],
 "long_term_improvements": ["..."],
 "strengths": ["..."],
 "next_steps": ["<in priority order>"]}`;

export const analyzeTool = defineWorkflowTool({
  name: 'analyze',
  title: 'Analyze: codebase analysis with an expert review',
  description:
    'Analysis of code or a system (architecture, performance, security, quality); an expert model then reviews your findings with relevant_files and prioritises them.',
  fields: {
    analysis_type: z
      .enum(['architecture', 'performance', 'security', 'quality', 'general'])
      .optional()
      .describe('Default: general.'),
    output_format: z
      .enum(['summary', 'detailed', 'actionable'])
      .optional()
      .describe('actionable: a prioritised to-do list. Default: detailed.'),
  },
  names: statusNames('analysis', 'analysis_complete_ready_for_implementation', {
    exai: { required: 'analyze_required' },
  }),
  defaultTemperature: 0.2,
  expert: {
    systemPrompt: SYSTEM_PROMPT,
    requestTitle: 'ANALYSIS REQUEST',
    skipWhenCertain: false,
    worthCalling: fileOrFinding,
    sections: view =>
      settingsSection('ANALYSIS SETTINGS', {
        'Analysis type': settingOf(view, 'analysis_type', 'general'),
        'Output format': settingOf(view, 'output_format', 'detailed'),
      }),
    guidance:
      'IMPORTANT: The expert analysis above is a second opinion. Check its findings against the code you read, ' +
      'drop what does not apply to this project, and present the findings that matter to the user in priority order.',
  },
  requiredActions: view =>
    actionsByConfidence(view, {
      first: [
        'Map the structure: entry points, main modules and how data flows between them',
        'Read the central files for the analysis type chosen',
        'Note the first concerns and strengths with file:line references',
      ],
      early: [
        'Examine the modules and paths your concerns depend on',
        'Look for repeated patterns, hot paths and boundaries between components',
      ],
      middle: [
        'Verify each concern against the code and estimate its impact',
        'Check the areas not yet covered (tests, configuration, dependencies)',
      ],
      late: ['Consolidate the findings by priority; set next_step_required to false for the expert review'],
    }),
  completionMessage:
    'ANALYSIS IS COMPLETE. Present the findings to the user by priority, each with its evidence, impact and ' +
    'recommended action, plus the quick wins and the strengths worth keeping.',
});
