// Reference data (category and area trees, units), loaded once per session and cached.
import { shallowRef } from 'vue'
import { api, type TreeNode, type Unit } from './api'

const categories = shallowRef<TreeNode[]>([])
const areas = shallowRef<TreeNode[]>([])
const units = shallowRef<Unit[]>([])
let loading: Promise<void> | null = null

export function useReference() {
  if (!loading) {
    loading = Promise.all([api.categories(), api.areas(), api.units()])
      .then(([c, a, u]) => {
        categories.value = c
        areas.value = a
        units.value = u
      })
      .catch((e) => {
        loading = null // try again next time
        throw e
      })
  }
  return { categories, areas, units, ready: loading }
}

/** code → "城乡建设 / 物业 / 物业服务" */
export function pathName(tree: TreeNode[], code: string): string {
  const walk = (nodes: TreeNode[], trail: string[]): string | null => {
    for (const n of nodes) {
      const t = [...trail, n.name]
      if (n.code === code) return t.join(' / ')
      const found = n.children?.length ? walk(n.children, t) : null
      if (found) return found
    }
    return null
  }
  return walk(tree, []) ?? code
}
