/** The chat messages behind each command. Short and explicit: small local models follow short prompts best. */
import { ChatMessage } from './api-client';

const CODE_ONLY = 'Answer with code only, in one fenced code block, without explanations.';

export type GenerateKind = 'signature' | 'comment';

export function generateCodeMessages(language: string, context: string, line: string, kind: GenerateKind): ChatMessage[] {
  const ask =
    kind === 'signature'
      ? `Write the complete implementation of this ${language} definition:\n${line.trim()}`
      : `Write the ${language} code (a function or a class) that this comment describes:\n${line.trim()}`;
  return [
    { role: 'system', content: `You are an expert ${language} programmer. ${CODE_ONLY}` },
    {
      role: 'user',
      content: `${context.trim() ? `The code before it:\n\`\`\`${language}\n${context}\n\`\`\`\n\n` : ''}${ask}`,
    },
  ];
}

export function explainMessages(language: string, code: string): ChatMessage[] {
  return [
    {
      role: 'system',
      content: 'You are an expert programmer who explains code clearly and briefly, in Markdown.',
    },
    { role: 'user', content: `Explain what this ${language} code does:\n\`\`\`${language}\n${code}\n\`\`\`` },
  ];
}

export function testMessages(language: string, code: string, fileName: string): ChatMessage[] {
  const framework = language === 'python' ? ' with pytest' : '';
  return [
    { role: 'system', content: `You are an expert ${language} programmer who writes thorough unit tests. ${CODE_ONLY}` },
    {
      role: 'user',
      content: `Write unit tests${framework} for this code from ${fileName}:\n\`\`\`${language}\n${code}\n\`\`\``,
    },
  ];
}

/**
 * Small models document best when they rewrite the code with the documentation added (asked for the
 * text alone they echo the instructions); the command stops the answer at the first line of the body.
 */
export function docstringMessages(language: string, code: string): ChatMessage[] {
  const form = language === 'python' ? 'a docstring' : 'a documentation comment';
  return [
    {
      role: 'system',
      content: `You are an expert ${language} programmer. Add ${form} to the code the user gives you. ${CODE_ONLY}`,
    },
    { role: 'user', content: `\`\`\`${language}\n${code}\n\`\`\`` },
  ];
}
